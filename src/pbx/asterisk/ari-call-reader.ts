import { admitCall, type GateResult } from '../call-gate.js';
import type { AriConnection } from './ari-connection.js';
import type { AriStasisStart } from './ari-types.js';

/** Channel variables a dialplan may set before Stasis() (DESIGN.md section 6). */
export const INPUT_VARIABLES = [
  'CALLGUARD_TENANT',
  'CALLGUARD_TASK',
  'CALLGUARD_AGENT',
  'CALLGUARD_DIRECTION',
] as const;
type InputVariable = (typeof INPUT_VARIABLES)[number];
type Inputs = Partial<Record<InputVariable, string>>;

const ARG_KEYS: Record<string, InputVariable> = {
  tenant: 'CALLGUARD_TENANT',
  task: 'CALLGUARD_TASK',
  agent: 'CALLGUARD_AGENT',
  direction: 'CALLGUARD_DIRECTION',
};

/**
 * Stasis arguments: `Stasis(callguard,outbound,${TASK})` gives direction then task; any argument
 * written `name=value` (tenant=, task=, agent=, direction=) is taken by name. Empty arguments are
 * skipped, so `Stasis(callguard,outbound,)` with an empty ${TASK} means no task.
 */
export function inputsFromArgs(args: readonly string[]): Inputs {
  const inputs: Inputs = {};
  const positional: InputVariable[] = ['CALLGUARD_DIRECTION', 'CALLGUARD_TASK'];
  let pos = 0;
  for (const raw of args) {
    const arg = raw.trim();
    const eq = arg.indexOf('=');
    if (eq > 0 && ARG_KEYS[arg.slice(0, eq).toLowerCase()]) {
      const value = arg.slice(eq + 1).trim();
      if (value) inputs[ARG_KEYS[arg.slice(0, eq).toLowerCase()]] = value;
      continue;
    }
    const slot = positional[pos++];
    if (slot && arg) inputs[slot] = arg;
  }
  return inputs;
}

export interface CallReaderOptions {
  /** CALLGUARD_DEFAULT_TENANT; unset: a call without a tenant is turned away. */
  readonly defaultTenant?: string;
  /** Read variables that ari.conf does not expose as channelvars with GET .../variable (default true). */
  readonly fetchMissingVariables?: boolean;
}

export type ReadResult = { readonly kind: 'call'; readonly gate: GateResult } | { readonly kind: 'gone' };

/**
 * Builds the IncomingCall from a StasisStart: arguments first, then channel variables: from the
 * event's channelvars when ari.conf exposes them (no request at all), else one GET per variable the
 * arguments left open. calling = caller.number, called = dialplan.exten.
 */
export class AriCallReader {
  constructor(
    private readonly conn: AriConnection,
    private readonly opts: CallReaderOptions,
  ) {}

  async read(event: AriStasisStart): Promise<ReadResult> {
    const ch = event.channel;
    const inputs = inputsFromArgs(event.args ?? []);
    const vars = ch.channelvars;
    const missing: InputVariable[] = [];
    for (const name of INPUT_VARIABLES) {
      if (inputs[name] !== undefined) continue;
      if (vars && name in vars) {
        if (vars[name]) inputs[name] = vars[name];
      } else {
        missing.push(name);
      }
    }
    if (missing.length > 0 && this.opts.fetchMissingVariables !== false) {
      const reads = await Promise.all(missing.map((name) => this.conn.getChannelVar(ch.id, name)));
      for (let i = 0; i < missing.length; i++) {
        const r = reads[i];
        if (r.kind === 'gone') return { kind: 'gone' };
        if (r.kind === 'value' && r.value) inputs[missing[i]] = r.value;
      }
    }
    return { kind: 'call', gate: this.toCall(event, inputs) };
  }

  /** The call as far as the arguments and the event's channelvars tell, without any request. */
  fromArgs(event: AriStasisStart): GateResult {
    const inputs = inputsFromArgs(event.args ?? []);
    const vars = event.channel.channelvars ?? {};
    for (const name of INPUT_VARIABLES)
      if (inputs[name] === undefined && vars[name]) inputs[name] = vars[name];
    return this.toCall(event, inputs);
  }

  /** Through the gate both adapters share (src/pbx/call-gate.ts). */
  private toCall(event: AriStasisStart, inputs: Inputs): GateResult {
    const ch = event.channel;
    return admitCall(
      {
        callId: ch.id,
        direction: inputs.CALLGUARD_DIRECTION,
        tenant: inputs.CALLGUARD_TENANT,
        task: inputs.CALLGUARD_TASK,
        agent: inputs.CALLGUARD_AGENT,
        called: ch.dialplan?.exten,
        calling: ch.caller?.number,
      },
      { defaultTenant: this.opts.defaultTenant },
    );
  }
}
