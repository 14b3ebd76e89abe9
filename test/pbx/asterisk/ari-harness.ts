import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../src/log.js';
import { AriApp } from '../../../src/pbx/asterisk/ari-app.js';
import { AriClientConnection } from '../../../src/pbx/asterisk/ari-client-connection.js';
import type { AriConnection } from '../../../src/pbx/asterisk/ari-connection.js';
import { AriHttpClient } from '../../../src/pbx/asterisk/ari-http-client.js';
import type {
  CallResult,
  HarnessStartOptions,
  PbxHarness,
  PlacedCall,
} from '../contract/call-handling-contract.js';
import { AriDouble, type AriDoubleOptions, type DoubleCallSpec } from './ari-double.js';

export type AriClientKind = 'undici' | 'ari-client';

export function makeConnection(
  kind: AriClientKind,
  url: string,
  logger: Logger,
  extra: { pipelineEnd?: boolean } = {},
): AriConnection {
  const opts = {
    url,
    username: 'test',
    password: 'test',
    app: 'callguard',
    logger,
    backoff: { initialMs: 20, maxMs: 200 },
  };
  return kind === 'undici' ? new AriHttpClient({ ...opts, ...extra }) : new AriClientConnection(opts);
}

/**
 * How the dialplan hands a call to the app: direction and task as Stasis arguments
 * (`Stasis(callguard,outbound,${TASK})`), tenant and agent as CALLGUARD_* channel variables.
 */
export function specFor(call: PlacedCall): DoubleCallSpec {
  const variables: Record<string, string> = { CALLGUARD_TENANT: call.tenant };
  if (call.agent !== undefined) variables.CALLGUARD_AGENT = call.agent;
  return {
    called: call.called,
    calling: call.calling,
    args: call.task === undefined ? [call.direction] : [call.direction, call.task],
    variables,
    hangupAfterMs: call.hangupAfterMs,
  };
}

const CALL_WAIT_MS = 5_000;

/** The ARI adapter against the ARI double, for the call-handling contract. */
export class AriHarness implements PbxHarness {
  readonly double: AriDouble;
  app: AriApp | undefined;

  constructor(
    private readonly kind: AriClientKind,
    doubleOpts: AriDoubleOptions = {},
  ) {
    this.double = new AriDouble(doubleOpts);
  }

  async start(opts: HarnessStartOptions): Promise<void> {
    const url = await this.double.start();
    this.app = new AriApp({
      connection: makeConnection(this.kind, url, opts.logger),
      source: opts.source,
      events: opts.events,
      logger: opts.logger,
      defaultTenant: opts.defaultTenant,
    });
    await this.app.start();
    await this.double.waitForApp();
  }

  async placeCall(call: PlacedCall): Promise<CallResult> {
    await this.double.waitForApp();
    const placed = this.double.placeCall(specFor(call));
    if (!placed) throw new Error('no app connected: Stasis() failed');
    const timeout = sleep(CALL_WAIT_MS).then(() => undefined);
    await Promise.race([placed.done, timeout]);
    return {
      variables: Object.fromEntries(placed.setVariables),
      end: placed.end ?? 'caller-hangup',
      cause: placed.cause,
      leftInApp: placed.end === undefined,
    };
  }

  async dropConnection(): Promise<void> {
    this.double.dropConnection();
    await this.double.waitForApp();
  }

  async stop(): Promise<void> {
    await this.app?.stop({ quietMs: 20, timeoutMs: 2_000 });
    await this.double.stop();
  }
}
