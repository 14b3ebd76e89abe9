import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { decodeSnapshot } from '../../src/engine/snapshot-codec.js';
import { silentLogger } from '../../src/log.js';
import { CatalogRepository } from '../../src/store/catalog-repository.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { SnapshotBuilder } from '../../src/store/snapshot-builder.js';
import { compileSnapshot, compileSnapshotInThread } from '../../src/store/snapshot-compiler.js';
import { SnapshotStore } from '../../src/store/snapshot-store.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { outboundCall } from '../support/calls.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const call = outboundCall;

describe.skipIf(skipWithoutRedis)('snapshot compile on a worker thread', () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** A tenant with exact numbers, patterns, a task-bound group, a type and a non-default action. */
  async function tenantWithRules(): Promise<string> {
    const t = redis.tenant();
    await new TenantRepository(client).create(t, { params: { defaultAction: 'block' } });
    const catalog = new CatalogRepository(client);
    await catalog.putType(t, {
      id: 'wrap',
      name: 'Wrap up',
      operation: 'auto_wrap_up',
      businessResult: 'DNC',
    });
    await catalog.bind(t, 'camp', ['dnc']);
    const drafts = Array.from({ length: 3000 }, (_, i) => ({
      called: `1555${String(i).padStart(7, '0')}`,
      direction: 'outbound' as const,
      action: 'allow' as const,
      ...(i % 3 === 0 ? { groupId: 'dnc', typeId: 'wrap', action: 'block' as const } : {}),
    }));
    await new RuleRepository(client).writeMany(t, [
      ...drafts,
      { called: '_1666!', direction: 'both', action: 'allow' },
      { called: '_1777XXXXXXX', direction: 'outbound', action: 'block', typeId: 'wrap' },
    ]);
    return t;
  }

  it('compiles the same snapshot as the event loop does', async () => {
    const t = await tenantWithRules();
    const here = await compileSnapshot(client, t);
    const there = await compileSnapshotInThread({ url: redis.url }, t);
    assert.equal(there.version, here.version);
    assert.deepEqual(there.params, here.params);
    assert.equal(there.state, undefined, 'a thread sends bytes, not an engine');
    // The bytes differ only in the header's creation time: compare what they hold.
    const [a, b] = [here, there].map((c) => decodeSnapshot(c.bytes));
    assert.equal(b!.version, a!.version);
    const byId = (e: typeof a) => [...e!.engine.rules()].sort((x, y) => x.id - y.id);
    assert.equal(byId(b).length, 3002);
    assert.deepEqual(byId(b), byId(a));
    assert.deepEqual(b!.engine.options(), a!.engine.options());
  });

  it('a builder with a thread stores the snapshot and returns an engine that decides like the rules', async () => {
    const t = await tenantWithRules();
    const state = await new SnapshotBuilder(client, silentLogger, undefined, { url: redis.url }).build(t);
    assert.ok(state, 'the builder took the lock and built');
    const stored = await new SnapshotStore(client).read(t);
    assert.equal(stored?.pointer.version, state.version);
    const reference = (await compileSnapshot(client, t)).state!.engine;
    const fromStore = decodeSnapshot(stored!.bytes).engine.withDefaultAction('block');
    const calls = [
      call('15550000000', { task: 'camp' }),
      call('15550000000'),
      call('15550000001'),
      call('16661234'),
      call('17771234567'),
      call('1777123456'),
      call('19999999999'),
      call('15550000000', { direction: 'inbound' }),
    ];
    for (const c of calls) {
      const want = reference.decide(c);
      for (const engine of [state.engine, fromStore]) {
        const got = engine.decide(c);
        assert.equal(got.action, want.action, JSON.stringify(c));
        assert.equal(got.ruleId, want.ruleId, JSON.stringify(c));
        assert.deepEqual(got.outcome, want.outcome, JSON.stringify(c));
      }
    }
    assert.equal(state.engine.decide(call('19999999999')).action, 'block', "the tenant's default action");
  });

  it('reports a thread that cannot reach Redis as an error, and the next build is not locked out', async () => {
    const t = await tenantWithRules();
    const unreachable = { url: 'redis://127.0.0.1:1' };
    await assert.rejects(
      compileSnapshotInThread(unreachable, t),
      /snapshot compile thread: .*(ECONNREFUSED|max retries)/,
    );
    await assert.rejects(new SnapshotBuilder(client, silentLogger, undefined, unreachable).build(t));
    assert.ok(await new SnapshotBuilder(client, silentLogger).build(t), 'the lock was released');
  });
});
