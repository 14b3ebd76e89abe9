import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, type Logger } from '../../../src/log.js';
import { type CallEvent, type CallEventSink, MemoryEventSink } from '../../../src/pbx/call-events.js';
import type { DeciderSource } from '../../../src/pbx/call-screener.js';
import { skipWithoutLocalRedis } from '../../support/redis-server.js';
import {
  ACME,
  ANNOUNCE,
  CAMPAIGN_TASK,
  contractSource,
  GHOST,
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

interface LogRecord {
  level: number;
  msg?: string;
}

function memoryLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: createLogger('debug', sink), records };
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

/** Registers the call-handling scenarios (DESIGN.md section 3) for one adapter. */
export function runCallHandlingContract(name: string, makeHarness: () => PbxHarness): void {
  describe(`${name}: call-handling contract`, () => {
    it('outbound-blocked-wraps-up', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const r = await h.placeCall({
          tenant: ACME,
          direction: 'outbound',
          called: '14045266123',
          calling: '201',
          task: CAMPAIGN_TASK,
          agent: 'agent-42',
        });
        assert.equal(r.end, 'hangup');
        assert.equal(r.cause, 21);
        assert.equal(r.leftInApp, false);
        assert.equal(r.variables.CALLGUARD_RESULT, 'block');
        assert.equal(r.variables.CALLGUARD_RULE, '1');
        assert.equal(r.variables.CALLGUARD_OPERATION, 'auto_wrap_up');
        assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, 'DNC');
        assert.equal(events.length, 1);
        const e = events[0];
        assert.equal(e.type, 'call.wrapped_up');
        assert.equal(e.tenant, ACME);
        assert.equal(e.task, CAMPAIGN_TASK);
        assert.equal(e.agent, 'agent-42');
        assert.equal(e.number, '14045266123');
        assert.equal(e.businessResult, 'DNC');
        assert.equal(e.typeId, WRAP_TYPE);
        assert.equal(e.ruleId, 1);
      });
    });

    it('outbound-blocked-number-outside-the-task-continues', async () => {
      await withHarness(makeHarness, async (h, events) => {
        // the same number without a task: the task-bound group does not apply
        const r = await h.placeCall({
          tenant: ACME,
          direction: 'outbound',
          called: '14045266123',
          calling: '201',
        });
        assert.equal(r.end, 'continue');
        assert.equal(r.variables.CALLGUARD_RESULT, 'allow');
        assert.equal(events.length, 0);
      });
    });

    it('outbound-popup-hangs-up-and-pops-up', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const r = await h.placeCall({
          tenant: ACME,
          direction: 'outbound',
          called: '18005550199',
          calling: '201',
          task: CAMPAIGN_TASK,
          agent: 'agent-42',
        });
        assert.equal(r.end, 'hangup');
        assert.equal(r.cause, 21);
        assert.equal(r.variables.CALLGUARD_RESULT, 'block');
        assert.equal(r.variables.CALLGUARD_OPERATION, 'pop_up');
        assert.equal(r.variables.CALLGUARD_RULE, '2');
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
        const hole = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: '+14045550123',
        });
        assert.equal(hole.end, 'continue');
        assert.equal(hole.variables.CALLGUARD_RESULT, 'allow');
        assert.equal(hole.variables.CALLGUARD_RULE, '5');
        const range = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: '4045550177',
        });
        // digits policy: 4045550177 is not in _1404555!, so no rule matches: the default allow
        assert.equal(range.end, 'continue');
        assert.equal(range.variables.CALLGUARD_RESULT, 'allow');
        assert.equal(range.variables.CALLGUARD_RULE ?? '', '');
        const blocked = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: '14045550177',
        });
        assert.equal(blocked.end, 'hangup');
        assert.equal(blocked.cause, 21);
        assert.equal(blocked.variables.CALLGUARD_RESULT, 'block');
        assert.equal(blocked.variables.CALLGUARD_RULE, '4');
        assert.equal(events.length, 0);
      });
    });

    it('inbound-anonymous-blocked', async () => {
      await withHarness(makeHarness, async (h) => {
        for (const calling of [undefined, 'anonymous']) {
          const r = await h.placeCall({ tenant: ACME, direction: 'inbound', called: '14045266123', calling });
          assert.equal(r.end, 'hangup', `calling ${String(calling)}`);
          assert.equal(r.cause, 21);
          assert.equal(r.variables.CALLGUARD_RESULT, 'block');
          assert.equal(r.variables.CALLGUARD_RULE, '6');
        }
      });
    });

    it('caller-hangs-up-mid-decision-is-not-an-error', async () => {
      await withHarness(makeHarness, async (h, events, logs) => {
        const gone = await h.placeCall({
          tenant: ACME,
          direction: 'outbound',
          called: '14045266123',
          calling: '201',
          task: CAMPAIGN_TASK,
          hangupAfterMs: 0,
        });
        assert.equal(gone.end, 'caller-hangup');
        assert.equal(gone.leftInApp, false);
        // the app is still fine: the next call is screened as usual
        const next = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: '+14045550123',
        });
        assert.equal(next.end, 'continue');
        assert.equal(next.variables.CALLGUARD_RESULT, 'allow');
        assert.deepEqual(errorsIn(logs), []);
        // a decision was made for the call that left: its event is still reported
        assert.ok(events.length <= 1);
      });
    });

    it('app-reconnects-and-keeps-screening', async () => {
      await withHarness(makeHarness, async (h) => {
        const before = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: 'anonymous',
        });
        assert.equal(before.end, 'hangup');
        await h.dropConnection();
        const after = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: 'anonymous',
        });
        assert.equal(after.end, 'hangup');
        assert.equal(after.variables.CALLGUARD_RULE, '6');
        await h.dropConnection();
        const again = await h.placeCall({
          tenant: ACME,
          direction: 'inbound',
          called: '14045266123',
          calling: '+14045550123',
        });
        assert.equal(again.end, 'continue');
        assert.equal(again.variables.CALLGUARD_RESULT, 'allow');
      });
    });

    it('no-index-applies-failure-policy-per-direction', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const out = await h.placeCall({
          tenant: GHOST,
          direction: 'outbound',
          called: '14045266123',
          calling: '201',
        });
        assert.equal(out.end, 'hangup', 'outbound fails closed');
        assert.equal(out.cause, 21);
        assert.equal(out.variables.CALLGUARD_RESULT, 'block');
        const inb = await h.placeCall({
          tenant: GHOST,
          direction: 'inbound',
          called: '14045266123',
          calling: '+14045550123',
        });
        assert.equal(inb.end, 'continue', 'inbound fails open');
        assert.equal(inb.variables.CALLGUARD_RESULT, 'allow');
        assert.equal(events.length, 0);
      });
    });

    it('block-without-type-continues-for-announcement', async () => {
      await withHarness(makeHarness, async (h, events) => {
        const announce = await h.placeCall({
          tenant: ANNOUNCE,
          direction: 'outbound',
          called: '19005550100',
          calling: '201',
        });
        assert.equal(announce.end, 'continue');
        assert.equal(announce.variables.CALLGUARD_RESULT, 'block');
        assert.equal(announce.variables.CALLGUARD_RULE, '3');
        // the default tenant setting hangs the same call up
        const hang = await h.placeCall({
          tenant: ACME,
          direction: 'outbound',
          called: '19005550100',
          calling: '201',
        });
        assert.equal(hang.end, 'hangup');
        assert.equal(hang.cause, 21);
        assert.equal(events.length, 0);
      });
    });

    it('redis-down-keeps-serving-last-snapshot', {
      skip: skipWithoutLocalRedis,
      timeout: 60_000,
    }, async () => {
      const { logger, records } = memoryLogger();
      await redisDownKeepsServingLastSnapshot(makeHarness, logger, () => errorsIn(records));
    });
  });
}
