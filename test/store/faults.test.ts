import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { CallContext } from '../../src/domain/call-context.js';
import type { Rule } from '../../src/domain/rule.js';
import { silentLogger } from '../../src/log.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { SnapshotStore } from '../../src/store/snapshot-store.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { decisionSummary, engineFromStore } from '../support/store-reference.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const call = (called: string): CallContext => ({
  called,
  calling: '',
  direction: 'outbound',
  at: Date.now(),
});

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe.skipIf(skipWithoutLocalRedis)('store faults', () => {
  let redis: TestRedis;
  let client: Redis;
  const syncs: TenantSync[] = [];
  const node = (tenant: string, store = { streamMaxLen: 1000, snapshotEvery: 10_000 }) => {
    const s = new TenantSync({
      tenant,
      client,
      blocking: redis.client(),
      log: silentLogger,
      store,
      blockMs: 300,
    });
    syncs.push(s);
    return s.start();
  };

  beforeAll(async () => {
    redis = await startRedis({ private: true, appendfsync: 'always' });
    client = redis.client();
  });
  afterAll(async () => {
    await Promise.all(syncs.map((s) => s.stop()));
    await redis?.stop();
  });

  it('loses no acknowledged write when redis-server is killed -9 mid-burst and restarted (AOF always)', async () => {
    const t = redis.tenant();
    const writer = redis.client();
    const rules = new RuleRepository(writer);
    const acked: Rule[] = [];
    let stop = false;
    const burst = async (lane: number) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try {
          const { rule } = await rules.create(t, {
            called: `1${lane}${String(i).padStart(8, '0')}`,
            direction: 'outbound',
            action: 'block',
          });
          acked.push(rule);
        } catch {
          // The server is gone: this write was not acknowledged, so it may or may not have landed.
        }
      }
    };
    const lanes = [1, 2, 3, 4].map(burst);
    await until('some writes landed', () => acked.length >= 200);
    await redis.kill9();
    stop = true;
    await Promise.all(lanes);
    await redis.restart();
    const ids = acked.map((r) => r.id);
    const stored = await new RuleRepository(client).getMany(t, ids);
    assert.equal(stored.length, acked.length, 'every acknowledged rule is there after the restart');
    assert.deepEqual(stored, acked);
  });

  it('keeps deciding while Redis is down, reports staleness, and catches up after', async () => {
    const t = redis.tenant();
    const rules = new RuleRepository(client);
    await rules.create(t, { called: '15550001', direction: 'outbound', action: 'block' });
    const a = node(t);
    await a.ready;
    await redis.kill9();
    await until('the node notices the outage', () => !a.status().connected);
    assert.equal(a.decider()!.decide(call('15550001')).action, 'block', 'still deciding from memory');
    await until('staleness grows', () => a.stalenessSeconds() > 0);
    await redis.restart();
    const { version } = await rules.create(t, { called: '15550002', direction: 'outbound', action: 'block' });
    assert.ok(await a.waitFor(version, 20_000), 'caught up after the restart');
    assert.equal(a.decider()!.decide(call('15550002')).action, 'block');
    await until('connected again', () => a.status().connected && a.stalenessSeconds() === 0);
  });

  it('a node restarted after the stream was trimmed past its snapshot reloads and converges', async () => {
    const t = redis.tenant();
    const store = { streamMaxLen: 10, snapshotEvery: 1_000_000 };
    const rules = new RuleRepository(client, store);
    for (let i = 0; i < 20; i++)
      await rules.create(t, { called: `1666${i}`, direction: 'both', action: 'block' });
    const a = node(t, store);
    await a.ready;
    const oldSnapshot = await new SnapshotStore(client).pointer(t);
    assert.ok(oldSnapshot);
    await a.stop();
    // While no node runs: many changes, far more than the stream keeps (MAXLEN ~ trims whole nodes).
    const created: number[] = [];
    for (let i = 0; i < 400; i++) {
      const { rule } = await rules.create(t, {
        called: `1777${i}`,
        direction: 'both',
        action: i % 2 ? 'block' : 'allow',
      });
      created.push(rule.id);
    }
    const { version } = await rules.delete(t, created.slice(0, 100));
    const first = (await client.xrange(`cg:{${t}}:changes`, '-', '+', 'COUNT', 1))[0]![0];
    assert.ok(first > oldSnapshot.version, 'the stream no longer reaches back to the snapshot');
    const b = node(t, store);
    assert.ok(await b.waitFor(version, 30_000));
    const reference = await engineFromStore(client, t);
    for (const n of ['16660', '166619', '17770', '17771', '1777150', '1777399', '1888']) {
      assert.deepEqual(
        decisionSummary(b.decider()!.decide(call(n))),
        decisionSummary(reference.decide(call(n))),
        n,
      );
    }
  });
});
