import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { memoryLogger } from '../../support/memory-logger.js';
import type { PbxHarness, PlacedCall } from './call-handling-contract.js';
import { ACME, BLOCKED_CALL, contractSource, inboundCall } from './contract-tenants.js';

const TURNED_AWAY = 'call turned away unscreened: the dialplan failure policy takes it';

async function withGate(
  makeHarness: () => PbxHarness,
  defaultTenant: string | undefined,
  body: (
    place: (call: PlacedCall) => ReturnType<PbxHarness['placeCall']>,
    warned: () => string[],
  ) => Promise<void>,
): Promise<void> {
  const harness = makeHarness();
  const { logger, records } = memoryLogger();
  await harness.start({ source: contractSource(), events: new MemoryEventSink(), logger, defaultTenant });
  const warned = () =>
    records.filter((r) => r.msg === TURNED_AWAY).map((r) => `${String(r.callId ?? '')} ${String(r.reason)}`);
  try {
    await body((call) => harness.placeCall(call), warned);
  } finally {
    await harness.stop();
  }
}

/**
 * The one gate (src/pbx/call-gate.ts) through one adapter: a call that cannot be read goes back to
 * the dialplan with no CALLGUARD_RESULT (so the failure policy of the context the dialplan routed
 * it to takes it) and the reason is logged with the call id.
 */
export function runCallGateContract(name: string, makeHarness: () => PbxHarness): void {
  describe(`${name}: the call gate`, () => {
    const turnedAway: Array<[string, PlacedCall, RegExp]> = [
      [
        'unknown direction',
        { ...BLOCKED_CALL, direction: 'outbund' as 'outbound' },
        /CALLGUARD_DIRECTION is "outbund"/,
      ],
      [
        'no tenant and no default tenant',
        inboundCall('anonymous', ''),
        /no CALLGUARD_TENANT and CALLGUARD_DEFAULT_TENANT is not set/,
      ],
      ['malformed tenant', inboundCall('anonymous', 'ac me'), /CALLGUARD_TENANT is "ac me"/],
      ['malformed agent', { ...BLOCKED_CALL, agent: 'a\u0007b' }, /CALLGUARD_AGENT is/],
    ];
    for (const [label, call, reason] of turnedAway) {
      it(`turns-away: ${label}`, async () => {
        await withGate(makeHarness, undefined, async (place, warned) => {
          const r = await place(call);
          assert.equal(r.end, 'continue', 'back to the dialplan');
          assert.equal(
            r.variables.CALLGUARD_RESULT,
            undefined,
            'no result: the dialplan failure policy acts',
          );
          const logged = warned();
          assert.equal(logged.length, 1);
          assert.match(logged[0], /^\S+ /, 'logged with the call id');
          assert.match(logged[0], reason);
        });
      });
    }

    it('a-call-without-tenant-uses-CALLGUARD_DEFAULT_TENANT-only-when-set', async () => {
      await withGate(makeHarness, ACME, async (place, warned) => {
        const r = await place(inboundCall('anonymous', ''));
        assert.equal(r.end, 'hangup');
        assert.equal(r.variables.CALLGUARD_RULE, '6', "acme's rules decided");
        assert.deepEqual(warned(), []);
      });
    });

    it('a-missing-direction-is-inbound', async () => {
      await withGate(makeHarness, undefined, async (place) => {
        const r = await place({ ...inboundCall('anonymous'), direction: '' as 'inbound' });
        assert.equal(r.end, 'hangup');
        assert.equal(r.variables.CALLGUARD_RULE, '6');
      });
    });
  });
}
