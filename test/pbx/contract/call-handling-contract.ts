import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { type CallEvent, type CallEventSink, MemoryEventSink } from '../../../src/call/call-events.js';
import type { DeciderSource } from '../../../src/call/call-screener.js';
import type { Logger } from '../../../src/log.js';
import { type LogRecord, memoryLogger } from '../../support/memory-logger.js';
import { skipWithoutLocalRedis } from '../../support/redis-server.js';
import {
  ACME,
  ALLOWED_CALL,
  ANNOUNCE,
  BLOCKED_CALL,
  CAMPAIGN_TASK,
  contractSource,
  DNC_NUMBER,
  GHOST,
  inboundCall,
  outboundCall,
  POPUP_TYPE,
  WRAP_TYPE,
} from './contract-tenants.js';
import { redisDownKeepsServingLastSnapshot } from './redis-down-scenario.js';

/** A call as the PBX side places it into the app. */
export interface PlacedCall {
  tenant: string;
  direction: 'inbound' | 'outbound';
  called: string;
  /** Caller id number; undefined = the caller sent none. */
  calling?: string;
  task?: string;
  agent?: string;
  /** The caller hangs up this many ms after the call reached the app (0: at once, while the app decides). */
  hangupAfterMs?: number;
}

/** What the PBX saw the app do with the call. */
export interface CallResult {
  /** Channel variables the app set, name → last value. */
  variables: Record<string, string>;
  /** continue: back to the dialplan; hangup: the app hung up; caller-hangup: the caller left first. */
  end: 'continue' | 'hangup' | 'caller-hangup';
  /** Q.850 cause of the app's hangup. */
  cause?: number;
  /** True when the call was still held by the app when placeCall gave up waiting. */
  leftInApp: boolean;
}

export interface HarnessStartOptions {
  source: DeciderSource;
  events: CallEventSink;
  /** The app logs here; the suite asserts that nothing is logged at error level where nothing went wrong. */
  logger: Logger;
  /** CALLGUARD_DEFAULT_TENANT as configured (unset by default). */
  defaultTenant?: string;
}

/**
 * One PBX (or its protocol-level double) with the callguard app attached to it. Every adapter
 * (ARI, ESL) provides one and passes the same scenarios.
 */
export interface PbxHarness {
  /** Starts the PBX double and the app; resolves when the app is ready to take calls. */
  start(opts: HarnessStartOptions): Promise<void>;
  /**
   * Places one call and resolves when the app is done with it (or a bounded wait ran out:
   * leftInApp). After dropConnection it waits (bounded) until the app is connected again.
   */
  placeCall(call: PlacedCall): Promise<CallResult>;
  /** The PBX side drops the app's connection; the app must reconnect by itself. */
  dropConnection(): Promise<void>;
  /** Stops the app (draining) and the PBX double. */
  stop(): Promise<void>;
}

const errorsIn = (records: LogRecord[]) => records.filter((r) => r.level >= 50).map((r) => r.msg);

async function withHarness(
  makeHarness: () => PbxHarness,
  body: (h: PbxHarness, events: CallEvent[], logs: LogRecord[]) => Promise<void>,
): Promise<void> {
  const harness = makeHarness();
  const sink = new MemoryEventSink();
  const { logger, records } = memoryLogger();
  await harness.start({ source: contractSource(), events: sink, logger });
  try {
    await body(harness, sink.events, records);
  } finally {
    await harness.stop();
  }
}

/** What a screened call must show; a field left out is not checked. rule '' = no CALLGUARD_RULE set. */
interface Expected {
  end: CallResult['end'];
  cause?: number;
  result?: 'allow' | 'block';
  rule?: string;
}

/** Places `call` and asserts every field of `want` on what the PBX saw. */
async function expectCall(h: PbxHarness, call: PlacedCall, want: Expected, label = ''): Promise<CallResult> {
  const r = await h.placeCall(call);
  const msg = `${label}${label ? ': ' : ''}${JSON.stringify(call)}`;
  assert.equal(r.end, want.end, msg);
  if (want.cause !== undefined) assert.equal(r.cause, want.cause, msg);
  if (want.result !== undefined) assert.equal(r.variables.CALLGUARD_RESULT, want.result, msg);
  if (want.rule !== undefined) assert.equal(r.variables.CALLGUARD_RULE ?? '', want.rule, msg);
  return r;
}

const HUNG_UP = { end: 'hangup', cause: 21, result: 'block' } as const;
const CONTINUED = { end: 'continue', result: 'allow' } as const;

/** Registers the call-handling scenarios (DESIGN.md section 3) for one adapter. */
export function runCallHandlingContract(name: string, makeHarness: () => PbxHarness): void {
  describe(`${name}: call-handling contract`, () => {
    it('outbound-blocked-wraps-up', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const call = outboundCall(DNC_NUMBER, { task: CAMPAIGN_TASK, agent: 'agent-42' });
        const r = await expectCall(h, call, { ...HUNG_UP, rule: '1' });
        assert.equal(r.leftInApp, false);
        assert.equal(r.variables.CALLGUARD_OPERATION, 'auto_wrap_up');
        assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, 'DNC');
        assert.equal(events.length, 1);
        const e = events[0];
        assert.equal(e.type, 'call.wrapped_up');
        assert.equal(e.tenant, ACME);
        assert.equal(e.task, CAMPAIGN_TASK);
        assert.equal(e.agent, 'agent-42');
        assert.equal(e.number, DNC_NUMBER);
        assert.equal(e.businessResult, 'DNC');
        assert.equal(e.typeId, WRAP_TYPE);
        assert.equal(e.ruleId, 1);
      });
    });

    it('outbound-blocked-number-outside-the-task-continues', async () => {
      await withHarness(makeHarness, async (h, events) => {
        // the same number without a task: the task-bound group does not apply
        await expectCall(h, outboundCall(DNC_NUMBER), CONTINUED);
        assert.equal(events.length, 0);
      });
    });

    it('outbound-popup-hangs-up-and-pops-up', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const call = outboundCall('18005550199', { task: CAMPAIGN_TASK, agent: 'agent-42' });
        const r = await expectCall(h, call, { ...HUNG_UP, rule: '2' });
        assert.equal(r.variables.CALLGUARD_OPERATION, 'pop_up');
        assert.equal(events.length, 1);
        const e = events[0];
        assert.equal(e.type, 'agent.popup');
        if (e.type !== 'agent.popup') return;
        assert.equal(e.agent, 'agent-42');
        assert.equal(e.task, CAMPAIGN_TASK);
        assert.equal(e.number, '18005550199');
        assert.equal(e.promptContent, 'This number asked not to be called');
        assert.equal(e.jumpAddress, 'https://crm.example/contacts/18005550199');
        assert.equal(e.businessResult, 'SUPERVISOR');
        assert.equal(e.typeId, POPUP_TYPE);
      });
    });

    it('inbound-allow-hole-continues', async () => {
      await withHarness(makeHarness, async (h, events) => {
        await expectCall(h, ALLOWED_CALL, { ...CONTINUED, rule: '5' }, 'hole');
        // digits policy: 4045550177 is not in _1404555!, so no rule matches: the default allow
        await expectCall(h, inboundCall('4045550177'), { ...CONTINUED, rule: '' }, 'range');
        await expectCall(h, inboundCall('14045550177'), { ...HUNG_UP, rule: '4' }, 'blocked');
        assert.equal(events.length, 0);
      });
    });

    it('inbound-anonymous-blocked', async () => {
      await withHarness(makeHarness, async (h) => {
        for (const calling of [undefined, 'anonymous']) {
          await expectCall(h, inboundCall(calling), { ...HUNG_UP, rule: '6' });
        }
      });
    });

    it('caller-hangs-up-mid-decision-is-not-an-error', async () => {
      await withHarness(makeHarness, async (h, events, logs) => {
        const gone = await expectCall(h, { ...BLOCKED_CALL, hangupAfterMs: 0 }, { end: 'caller-hangup' });
        assert.equal(gone.leftInApp, false);
        // the app is still fine: the next call is screened as usual
        await expectCall(h, ALLOWED_CALL, CONTINUED);
        assert.deepEqual(errorsIn(logs), []);
        // a decision was made for the call that left: its event is still reported
        assert.ok(events.length <= 1);
      });
    });

    it('app-reconnects-and-keeps-screening', async () => {
      await withHarness(makeHarness, async (h) => {
        await expectCall(h, inboundCall('anonymous'), { end: 'hangup' }, 'before');
        await h.dropConnection();
        await expectCall(h, inboundCall('anonymous'), { end: 'hangup', rule: '6' }, 'after');
        await h.dropConnection();
        await expectCall(h, ALLOWED_CALL, CONTINUED, 'again');
      });
    });

    it('no-index-applies-failure-policy-per-direction', async () => {
      await withHarness(makeHarness, async (h, events) => {
        await expectCall(h, outboundCall(DNC_NUMBER, { tenant: GHOST }), HUNG_UP, 'outbound fails closed');
        await expectCall(h, inboundCall('+14045550123', GHOST), CONTINUED, 'inbound fails open');
        assert.equal(events.length, 0);
      });
    });

    it('block-without-type-continues-for-announcement', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const premium = '19005550100';
        await expectCall(h, outboundCall(premium, { tenant: ANNOUNCE }), {
          end: 'continue',
          result: 'block',
          rule: '3',
        });
        // the default tenant setting hangs the same call up
        await expectCall(h, outboundCall(premium), { end: 'hangup', cause: 21 });
        assert.equal(events.length, 0);
      });
    });

    it.skipIf(skipWithoutLocalRedis)(
      'redis-down-keeps-serving-last-snapshot',
      { timeout: 60_000 },
      async () => {
        const { logger, records } = memoryLogger();
        await redisDownKeepsServingLastSnapshot(makeHarness, logger, () => errorsIn(records));
      },
    );
  });
}
