import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallScreener } from '../../src/call/call-screener.js';
import { silentLogger } from '../../src/log.js';
import { CatalogRepository } from '../../src/store/catalog-repository.js';
import { ChangeStream } from '../../src/store/change-stream.js';
import { tenantKeys } from '../../src/store/keys.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { SnapshotStore } from '../../src/store/snapshot-store.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { CALL_TIME, outboundCall } from '../support/calls.js';
import { eventually, memoryLogger } from '../support/memory-logger.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const NOW = CALL_TIME;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const store = { streamMaxLen: 1000, snapshotEvery: 50 };
const call = outboundCall;

describe.skipIf(skipWithoutRedis)('TenantSync', () => {
  let redis: TestRedis;
  let client: Redis;
  let rules: RuleRepository;
  let catalog: CatalogRepository;
  let tenants: TenantRepository;
  const syncs: TenantSync[] = [];
  const node = (tenant: string, buildSnapshots = true) => {
    const s = new TenantSync({
      tenant,
      client,
      blocking: redis.client(),
      log: silentLogger,
      store,
      buildSnapshots,
      blockMs: 500,
    });
    syncs.push(s);
    return s.start();
  };

  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    rules = new RuleRepository(client, store, () => NOW);
    catalog = new CatalogRepository(client, store);
    tenants = new TenantRepository(client, store);
  });
  afterAll(async () => {
    await Promise.all(syncs.map((s) => s.stop()));
    await redis?.stop();
  });

  it('loads the rules at start, caches a snapshot, and a second node starts from it', async () => {
    const t = redis.tenant();
    await rules.create(t, { called: '14045266123', direction: 'outbound', action: 'block' });
    const a = node(t);
    await a.ready;
    assert.equal(a.decider()!.decide(call('14045266123')).action, 'block');
    assert.ok(await new SnapshotStore(client).pointer(t), 'the first node stored a snapshot');
    const b = node(t);
    await b.ready;
    assert.equal(b.decider()!.decide(call('14045266123')).action, 'block');
    assert.equal(b.decider()!.decide(call('14045266124')).action, 'allow');
  });

  it('applies rule, binding, type and parameter changes live', async () => {
    const t = redis.tenant();
    await tenants.create(t);
    const a = node(t);
    await a.ready;
    const { rule, version: v1 } = await rules.create(t, {
      called: '_1555!',
      direction: 'outbound',
      action: 'block',
      groupId: 'dnc',
      typeId: 'wrap',
    });
    assert.ok(await a.waitFor(v1));
    assert.equal(
      a.decider()!.decide(call('15550001', { task: 'camp' })).action,
      'allow',
      'group not bound yet',
    );
    assert.ok(await a.waitFor(await catalog.bind(t, 'camp', ['dnc'])));
    const blocked = a.decider()!.decide(call('15550001', { task: 'camp' }));
    assert.equal(blocked.rule?.id, rule.id);
    assert.equal(blocked.outcome.operation, 'none', 'type not defined yet');
    const { version: v3 } = await catalog.putType(t, {
      id: 'wrap',
      name: 'Wrap up',
      operation: 'auto_wrap_up',
      businessResult: 'DNC',
    });
    assert.ok(await a.waitFor(v3));
    assert.equal(a.decider()!.decide(call('15550001', { task: 'camp' })).outcome.businessResult, 'DNC');
    await tenants.setParams(t, {
      defaultAction: 'block',
      normalization: { mode: 'e164', defaultCountry: 'US' },
    });
    assert.ok(await a.waitFor(await new ChangeStream(client).version(t)));
    assert.deepEqual(a.decider()!.policy, { mode: 'e164', defaultCountry: 'US' });
    assert.equal(a.decider()!.decide(call('19999999999')).action, 'block');
    assert.ok(await a.waitFor(await catalog.unbind(t, 'camp')));
    assert.equal(a.decider()!.decide(call('15550001', { task: 'camp' })).action, 'block');
    assert.equal(a.decider()!.decide(call('15550001', { task: 'camp' })).rule, null, 'only the default now');
    const del = await rules.delete(t, [rule.id]);
    assert.ok(await a.waitFor(del.version));
  });

  it('reloads once after a bulk write, and every node sees the whole import', async () => {
    const t = redis.tenant();
    const a = node(t);
    const b = node(t, false);
    await Promise.all([a.ready, b.ready]);
    const drafts = Array.from({ length: 3000 }, (_, i) => ({
      called: `1777${String(i).padStart(7, '0')}`,
      direction: 'outbound' as const,
      action: 'block' as const,
    }));
    await rules.writeMany(t, drafts);
    const v = await rules.publishReload(t);
    assert.ok(await a.waitFor(v, 30_000));
    assert.ok(await b.waitFor(v, 30_000));
    for (const s of [a, b]) {
      assert.equal(s.decider()!.decide(call('17770000000')).action, 'block');
      assert.equal(s.decider()!.decide(call('17770002999')).action, 'block');
      assert.equal(s.status().rules, 3000);
    }
  });

  it('a node starting while a bulk import holds the snapshot lock waits for the import instead of reading half of it', async () => {
    const t = redis.tenant();
    await rules.create(t, { called: '17770000000', direction: 'outbound', action: 'block' });
    const lock = tenantKeys(t).snapshotLock;
    await client.set(lock, 'import-job-1', 'PX', 60_000);
    // Half of an import has landed; its reload change has not been published.
    await rules.writeMany(t, [{ called: '17770000001', direction: 'outbound', action: 'block' }]);
    const fresh = node(t);
    await sleep(1500);
    assert.equal(fresh.decider(), undefined, 'no rules loaded while the import holds the lock');
    await rules.writeMany(t, [{ called: '17770000002', direction: 'outbound', action: 'block' }]);
    const v = await rules.publishReload(t);
    await client.del(lock);
    await fresh.ready;
    assert.ok(await fresh.waitFor(v, 30_000));
    for (const n of ['17770000000', '17770000001', '17770000002']) {
      assert.equal(fresh.decider()!.decide(call(n)).action, 'block', n);
    }
  });

  it('keeps deltas small: after many changes a rebuilt snapshot replaces the overlay', async () => {
    const t = redis.tenant();
    const a = node(t);
    await a.ready;
    let version = '';
    for (let i = 0; i < 120; i++) {
      ({ version } = await rules.create(t, { called: `1888${i}`, direction: 'both', action: 'block' }));
    }
    assert.ok(await a.waitFor(version));
    let compacted = false;
    for (let i = 0; i < 100 && !compacted; i++) {
      compacted = a.status().overlay < 120;
      if (!compacted) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(compacted, `overlay still ${a.status().overlay}`);
    assert.equal(a.decider()!.decide(call('18880')).action, 'block');
    assert.equal(a.decider()!.decide(call('1888119')).action, 'block');
  });

  /** The registry's sync of a tenant, once a call has made it start one. */
  const syncOf = async (registry: SyncRegistry, t: string) => {
    assert.ok(
      await eventually(() => registry.get(t) !== undefined),
      'the registry started syncing the tenant',
    );
    return registry.get(t)!;
  };

  it('serves calls through the PBX screener via the registry', async () => {
    const t = redis.tenant();
    await tenants.create(t, { params: { blockWithoutType: 'continue', hangupCause: 17 } });
    await rules.create(t, { called: '14045266123', direction: 'outbound', action: 'block' });
    const registry = new SyncRegistry({ client, log: silentLogger, store, blockMs: 500 });
    try {
      const screener = new CallScreener(registry, { emit() {} }, () => NOW);
      const incoming = {
        tenant: t,
        called: '14045266123',
        calling: '100',
        direction: 'outbound' as const,
      } as never;
      const first = screener.screen(incoming);
      assert.equal(first.decision, null, 'unknown tenant: failure policy on the first call');
      assert.equal(first.plan.result, 'block', 'outbound fails closed');
      await (await syncOf(registry, t)).ready;
      const second = screener.screen(incoming);
      assert.equal(second.decision?.action, 'block');
      assert.equal(registry.fallbackHandling(t).hangupCause, 17);
      assert.equal(registry.stalenessSeconds(), 0);
    } finally {
      await registry.stop();
    }
  });

  it('starts no sync for a tenant id that calls name but nobody created, until it is created', async () => {
    const t = redis.tenant();
    let now = NOW;
    const { logger, records } = memoryLogger();
    const registry = new SyncRegistry({ client, log: logger, store, blockMs: 500, now: () => now });
    try {
      const screener = new CallScreener(registry, { emit() {} }, () => NOW);
      const incoming = { tenant: t, called: '14045266123', calling: '100', direction: 'outbound' } as never;
      for (let i = 0; i < 50; i++) {
        assert.equal(screener.screen(incoming).plan.result, 'block', 'the failure policy');
        await sleep(5);
      }
      // A sync holds a blocking connection: none may pile up for ids nobody created.
      assert.equal(registry.get(t), undefined, 'no sync for an unknown tenant');
      assert.equal(registry.status().length, 0);
      const warnings = records.filter((r) => r.level === 40 && r.tenant === t);
      assert.equal(warnings.length, 1, 'the unknown tenant is logged once, not once a call');

      // Created the way an older version did (no announcement on the tenants stream).
      await client.hset(tenantKeys(t).tenant, 'name', t, 'params', '{}');
      await client.sadd('cg:tenants', t);
      await rules.create(t, { called: '14045266123', direction: 'outbound', action: 'allow' });
      screener.screen(incoming);
      await sleep(100);
      assert.equal(registry.get(t), undefined, 'an unknown id is asked about again only after a while');
      now += 31_000;
      screener.screen(incoming);
      await (await syncOf(registry, t)).ready;
      assert.equal(screener.screen(incoming).decision?.action, 'allow');
    } finally {
      await registry.stop();
    }
  });
});
