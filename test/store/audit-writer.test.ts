import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { type AuditEntryInput, AuditRepository } from '../../src/store/audit-repository.js';
import { AuditWriter } from '../../src/store/audit-writer.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const entry = (n: number, at = Date.now()): AuditEntryInput => ({
  at,
  actor: { keyId: 'abcdef0123456789', role: 'tenant_admin' },
  kind: 'rule',
  action: 'create',
  target: String(n),
  ous: [],
  after: { called: `1555${n}` },
});
const DAY = 86_400_000;

describe.skipIf(skipWithoutLocalRedis)('the audit trail in Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ private: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps at most the configured number of entries (trimmed a stream node at a time)', async () => {
    const repo = new AuditRepository(redis.client());
    const t = redis.tenant();
    for (let i = 0; i < 3000; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => entry(i + j));
      await repo.append(t, batch, { maxAgeMs: 90 * DAY, maxEntries: 1000 }, Date.now());
    }
    const length = await repo.length(t);
    assert.ok(length >= 1000 && length <= 1100, `kept ${length}`);
    const newest = await repo.query(t, { limit: 1 });
    assert.equal(newest.items[0]?.target, '2999', 'the newest are the ones kept');
  });

  it('drops entries older than the retention age', async () => {
    const repo = new AuditRepository(redis.client());
    const t = redis.tenant();
    // The tenant parameter is in days; the repository takes ms, so a short age shows the same rule.
    const limits = { maxAgeMs: 300, maxEntries: 1_000_000 };
    await repo.append(t, [entry(1), entry(2)], limits, Date.now());
    assert.equal(await repo.length(t), 2);
    await new Promise((r) => setTimeout(r, 400));
    await repo.append(t, [entry(3)], limits, Date.now());
    assert.deepEqual(
      (await repo.query(t, { limit: 10 })).items.map((e) => e.target),
      ['3'],
    );
  });

  it('loses nothing when Redis goes away for a while: entries wait and are written in order', async () => {
    const client = redis.client();
    const repo = new AuditRepository(client);
    const t = redis.tenant();
    const writer = new AuditWriter(
      repo,
      async () => ({ maxAgeMs: DAY, maxEntries: 10_000 }),
      silentLogger,
      Date.now,
      {
        flushMs: 5,
        maxRetryMs: 100,
      },
    );
    writer.record(t, entry(0));
    await writer.flush();
    await redis.kill9();
    for (let i = 1; i <= 50; i++) writer.record(t, entry(i));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(writer.pending, 50, 'held while Redis is away');
    await redis.restart();
    for (let i = 0; i < 200 && writer.pending > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(writer.pending, 0);
    const items = (await repo.query(t, { limit: 100 })).items.map((e) => Number(e.target));
    assert.deepEqual(
      items,
      Array.from({ length: 51 }, (_, i) => 50 - i),
    );
    await writer.close();
  });
});
