import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/log.js';
import { CatalogRepository } from '../../src/store/catalog-repository.js';
import { SYNC_CONNECTION_NAME } from '../../src/store/change-tailer.js';
import { tenantKeys } from '../../src/store/keys.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { SnapshotStore } from '../../src/store/snapshot-store.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { convergenceProperty } from '../support/convergence.js';
import { eventually, memoryLogger } from '../support/memory-logger.js';
import { skipWithoutLocalRedis, startRedisCluster, type TestCluster } from '../support/redis-server.js';

const NOW = 1_800_000_000_000;
const callTo = (called: string) => ({ called, calling: '', direction: 'outbound' as const, at: Date.now() });

describe.skipIf(skipWithoutLocalRedis)('store on a 3-master Redis Cluster', () => {
  let cluster: TestCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = cluster.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('spreads tenants over the masters and writes, checks duplicates, indexes and purges without CROSSSLOT', async () => {
    const rules = new RuleRepository(client, undefined, () => NOW);
    const tenantIds = Array.from({ length: 6 }, () => cluster.tenant('cl'));
    for (const t of tenantIds) {
      await new TenantRepository(client).create(t);
      const { rule } = await rules.create(t, {
        called: '14045266123',
        direction: 'outbound',
        action: 'block',
        groupId: 'g',
        typeId: 'wrap',
        ou: 'o',
        expiresAt: NOW + 60_000,
      });
      await assert.rejects(
        rules.create(t, { called: '14045266123', direction: 'outbound', action: 'allow', groupId: 'g' }),
        (e: unknown) => e instanceof CallguardError && e.code === 'CG_ERR_DUPLICATE_RULE',
      );
      await rules.writeMany(
        t,
        Array.from({ length: 300 }, (_, i) => ({
          called: `_1404${i}!`,
          direction: 'both' as const,
          action: 'block' as const,
        })),
      );
      assert.equal((await rules.listBy(t, 'group', 'g')).items[0]?.id, rule.id);
      assert.equal((await rules.findByPrefix(t, '14045', { limit: 1000 })).items.length, 1 + 11);
      assert.equal((await rules.list(t, { limit: 1000 })).items.length, 301);
      assert.equal(await rules.purgeExpired(t, NOW + 120_000), 1);
      await new CatalogRepository(client).bind(t, 'task', ['g']);
      assert.ok(await new SnapshotStore(client, { chunkBytes: 1024 }).write(t, Buffer.alloc(5000, 7), '1-0'));
      const read = await new SnapshotStore(client).read(t);
      assert.equal(read?.bytes.length, 5000);
    }
    const sizes = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
    assert.ok(sizes.filter((n) => n > 0).length > 1, `tenants landed on more than one master: ${sizes}`);
  });

  it('a node syncs a tenant over the cluster', async () => {
    const t = cluster.tenant('cl');
    const rules = new RuleRepository(client);
    await rules.create(t, { called: '15550001', direction: 'outbound', action: 'block' });
    const sync = new TenantSync({
      tenant: t,
      client,
      blocking: cluster.client(),
      log: silentLogger,
      blockMs: 300,
    }).start();
    try {
      await sync.ready;
      const { version } = await rules.create(t, {
        called: '15550002',
        direction: 'outbound',
        action: 'block',
      });
      assert.ok(await sync.waitFor(version));
      assert.equal(
        sync.decider()!.decide({ called: '15550002', calling: '', direction: 'outbound', at: Date.now() })
          .action,
        'block',
      );
    } finally {
      await sync.stop();
    }
  });

  it('a node learns of tenants created on every shard at once, and reads them all with one connection per master', async () => {
    const api = cluster.client();
    const node = cluster.client();
    await Promise.all([api.ping(), node.ping()]);
    const { logger, records } = memoryLogger();
    // A read of every stream only each 30 s: what arrives sooner came through the shard channels.
    const registry = new SyncRegistry({ client: node, log: logger, blockMs: 30_000 });
    try {
      await registry.start();
      const masterOf = (t: string) => (api.slots[calculateSlot(tenantKeys(t).changes)] as string[])[0]!;
      const perMaster = new Map<string, string[]>();
      for (
        let i = 0;
        i < 200 && (perMaster.size < 3 || [...perMaster.values()].some((l) => l.length < 2));
        i++
      ) {
        const t = cluster.tenant('shard');
        perMaster.set(masterOf(t), [...(perMaster.get(masterOf(t)) ?? []), t]);
      }
      assert.equal(perMaster.size, 3, 'tenants on every master');
      const all = [...perMaster.values()].flat();
      const rules = new RuleRepository(api);
      for (const t of all) {
        await new TenantRepository(api).create(t, { params: { defaultAction: 'block' } });
        // Known at once: the tenant's default decides, not the failure policy.
        assert.ok(
          await eventually(() => registry.deciderFor(t)?.decide(callTo('15550009')).action === 'block'),
          `${t} (on ${masterOf(t)}) known`,
        );
      }
      for (const t of all) {
        const { version } = await rules.create(t, {
          called: '15550001',
          direction: 'outbound',
          action: 'allow',
        });
        assert.ok(
          await registry.get(t)!.waitFor(version),
          `${t} follows its changes ${JSON.stringify(records.filter((r) => r.level >= 40))} ${JSON.stringify(registry.get(t)!.status())}`,
        );
        assert.equal(registry.deciderFor(t)!.decide(callTo('15550001')).action, 'allow');
      }
      assert.equal(registry.connectionCount(), 3, 'one blocking connection per master');
      for (const master of api.nodes('master')) {
        const list = String(await master.client('LIST'));
        const named = list.split('\n').filter((l) => l.includes(`name=${SYNC_CONNECTION_NAME}`));
        assert.equal(named.length, 1, `${master.options.port}: one sync connection`);
      }
    } finally {
      await registry.stop();
    }
  });

  it('two nodes converge with the store after any history of writes', async () => {
    await convergenceProperty(
      client,
      () => cluster.client(),
      () => cluster.tenant('clconv'),
      8,
    );
  });
});
