import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  CallStats,
  CallTally,
  HOURS_SHOWN,
  MINUTES_SHOWN,
  queueStatsWrites,
} from '../../src/store/call-stats.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

interface Call {
  readonly ago: number;
  readonly blocked: boolean;
  readonly rule: number;
}

/**
 * The dashboard's counters against a plain reference: whatever calls a node counts, in however many
 * writes, with some writes failing and their counts put back, the minute and hour buckets read back
 * hold exactly the calls of each bucket, and the blocks per rule add up.
 */
describe.skipIf(skipWithoutRedis)('call figures: counted, written in batches, read back', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('equal the calls of each minute and hour, whatever the batches and failed writes', async () => {
    const client = redis.client();
    const stats = new CallStats(client);
    // A fixed "now" in the middle of a minute, so that every call of a run lands in a shown bucket.
    const now = Math.floor(Date.now() / HOUR) * HOUR + 30 * MINUTE + 30_000;
    const call = fc.record({
      // Within the shown hour (minutes) or up to 6 days back (hours only).
      ago: fc.oneof(fc.integer({ min: 0, max: 59 * MINUTE }), fc.integer({ min: 0, max: 6 * 24 * HOUR })),
      blocked: fc.boolean(),
      rule: fc.integer({ min: 0, max: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(call, { maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        async (batches: Call[][], fails: boolean[]) => {
          const tenant = redis.tenant('stats');
          const tally = new CallTally();
          const all = batches.flat();
          for (const [i, batch] of batches.entries()) {
            for (const c of batch) tally.count(tenant, now - c.ago, c.blocked, c.blocked ? c.rule : 0);
            const drained = tally.drain();
            // A failed write: the counts go back and are written with the next batch.
            if (fails[i] && i < batches.length - 1) {
              for (const [t, minutes] of drained) tally.restore(t, minutes);
              continue;
            }
            const pipeline = client.pipeline();
            for (const [t, minutes] of drained) queueStatsWrites(pipeline, t, minutes);
            await pipeline.exec();
          }
          const window = await stats.window(tenant, now);
          const expectMinute = new Map<number, [number, number]>();
          const expectHour = new Map<number, [number, number]>();
          const expectRules = new Map<number, number>();
          for (const c of all) {
            const at = now - c.ago;
            for (const [map, key] of [
              [expectMinute, Math.floor(at / MINUTE) * MINUTE],
              [expectHour, Math.floor(at / HOUR) * HOUR],
            ] as const) {
              const cell = map.get(key) ?? [0, 0];
              cell[0]++;
              if (c.blocked) cell[1]++;
              map.set(key, cell);
            }
            if (c.blocked) expectRules.set(c.rule, (expectRules.get(c.rule) ?? 0) + 1);
          }
          assert.equal(window.minutes.length, MINUTES_SHOWN);
          assert.equal(window.hours.length, HOURS_SHOWN);
          for (const b of window.minutes) {
            const [s, bl] = expectMinute.get(Date.parse(b.at)) ?? [0, 0];
            assert.deepEqual([b.screened, b.blocked], [s, bl], `minute ${b.at}`);
          }
          for (const b of window.hours) {
            const [s, bl] = expectHour.get(Date.parse(b.at)) ?? [0, 0];
            assert.deepEqual([b.screened, b.blocked], [s, bl], `hour ${b.at}`);
          }
          assert.deepEqual(
            [...window.blocksByRule].sort((a, b) => a[0] - b[0]),
            [...expectRules].sort((a, b) => a[0] - b[0]),
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});
