import type { IncomingCall } from '../call/incoming-call.js';
import type { CallDirection } from '../domain/rule.js';
import { TENANT_ID } from '../store/keys.js';

/** What a PBX says about a call, raw: Stasis arguments and channel variables, or ESL channel headers. */
export interface CallFacts {
  readonly callId: string | undefined;
  /** CALLGUARD_DIRECTION as the dialplan set it (undefined or '' = not set: inbound). */
  readonly direction: string | undefined;
  readonly tenant: string | undefined;
  readonly task: string | undefined;
  readonly agent: string | undefined;
  readonly called: string | undefined;
  readonly calling: string | undefined;
  readonly sbc?: string;
  readonly provider?: string;
  readonly customerGroup?: string;
  readonly user?: string;
}

export interface GateOptions {
  /** CALLGUARD_DEFAULT_TENANT: used for calls without a tenant only when set explicitly. */
  readonly defaultTenant?: string;
}

/**
 * The gate's answer: a call to screen, or a call turned away with the reason. A call turned away
 * goes back to the dialplan with no CALLGUARD_RESULT, so the failure policy of the context (the
 * direction the dialplan declared by routing the call there) takes it.
 */
export type GateResult =
  | { readonly ok: true; readonly call: IncomingCall }
  | { readonly ok: false; readonly callId: string | undefined; readonly reason: string };

/** Names callguard stores (tenants, tasks, agents): what the API's name schema accepts, and no spaces at the ends. */
const NAME = /^[^\p{Cc}\s](?:[^\p{Cc}]{0,126}[^\p{Cc}\s])?$/u;

const given = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

function direction(value: string | undefined): CallDirection | undefined {
  if (value === undefined || value === '') return 'inbound';
  const v = value.toLowerCase();
  return v === 'inbound' || v === 'outbound' ? v : undefined;
}

const show = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

/**
 * The one place both PBX adapters turn what the PBX said into the call callguard screens, with the
 * same rules: a missing direction is inbound, an unknown one is refused; the tenant must be a tenant
 * id, task and agent names callguard could have stored (1-128 characters, no control characters, no
 * spaces at the ends); a call with no
 * tenant uses CALLGUARD_DEFAULT_TENANT only when that is set. Never throws.
 */
export function admitCall(facts: CallFacts, opts: GateOptions = {}): GateResult {
  const callId = given(facts.callId);
  const refuse = (reason: string): GateResult => ({ ok: false, callId, reason });
  if (!callId) return refuse('the PBX gave no channel id');
  const dir = direction(facts.direction);
  if (!dir) {
    return refuse(`CALLGUARD_DIRECTION is ${show(facts.direction ?? '')}; inbound or outbound is accepted`);
  }
  const tenant = given(facts.tenant) ?? given(opts.defaultTenant);
  if (!tenant) {
    return refuse('the call carries no CALLGUARD_TENANT and CALLGUARD_DEFAULT_TENANT is not set');
  }
  if (!TENANT_ID.test(tenant)) {
    return refuse(
      `CALLGUARD_TENANT is ${show(tenant)}; 1-64 characters of letters, digits, _ . - are accepted`,
    );
  }
  for (const [name, value] of [
    ['CALLGUARD_TASK', given(facts.task)],
    ['CALLGUARD_AGENT', given(facts.agent)],
  ] as const) {
    if (value !== undefined && !NAME.test(value)) {
      return refuse(
        `${name} is ${show(value)}; 1-128 characters without control characters or spaces at the ends are accepted`,
      );
    }
  }
  return {
    ok: true,
    call: {
      callId,
      tenant,
      direction: dir,
      called: facts.called ?? '',
      calling: given(facts.calling),
      task: given(facts.task),
      agent: given(facts.agent),
      sbc: given(facts.sbc),
      provider: given(facts.provider),
      customerGroup: given(facts.customerGroup),
      user: given(facts.user),
    },
  };
}
