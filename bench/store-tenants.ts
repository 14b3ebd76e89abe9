import { Redis } from 'ioredis';
import { silentLogger } from '../src/log.js';
import { SYNC_CONNECTION_NAME } from '../src/store/change-tailer.js';
import type { RedisClient } from '../src/store/redis-client.js';
import { SyncRegistry } from '../src/store/sync-registry.js';
import { TenantRepository } from '../src/store/tenant-repository.js';
import { startRedisCluster } from '../test/support/redis-server.js';

/**
 * The store bench's tenant figures: how fast another node learns of a new tenant (create acknowledged
 * → the node has a decider for it), and how many Redis connections a node holds at 1, 100 and 1,000
 * tenants (counted by the server: CLIENT LIST).
 */
type Out = (o: Record<string, unknown>) => void;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** Resolves when `check` holds, looking again on every turn of the event loop (at most 10 s). */
async function until(check: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('not reached within 10 s');
    await new Promise((r) => setImmediate(r));
  }
}

/** Creates `count` tenants through `api` and times each until the registry on `node` has a decider for it. */
async function propagation(api: RedisClient, node: RedisClient, count: number, redis: string, out: Out) {
  const registry = new SyncRegistry({ client: node, log: silentLogger });
  await registry.start();
  const tenants = new TenantRepository(api);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = `prop-tenant-${i}`;
      await tenants.create(t);
      const acked = performance.now();
      await until(() => registry.deciderFor(t) !== undefined);
      times.push(performance.now() - acked);
    }
  } finally {
    await registry.stop();
  }
  times.sort((a, b) => a - b);
  out({
    metric: 'tenant_propagation_create_ack_to_known',
    redis,
    samples: count,
    p50_ms: round(pct(times, 0.5)),
    p99_ms: round(pct(times, 0.99)),
    max_ms: round(times[times.length - 1]!),
    sync_connections: redis === 'standalone' ? 1 : 3,
  });
}

export async function tenantPropagation(url: string, count: number, out: Out): Promise<void> {
  const api = new Redis(url);
  const node = new Redis(url);
  try {
    await propagation(api, node, count, 'standalone', out);
  } finally {
    api.disconnect();
    node.disconnect();
  }
}

/** The same on a 3-master Redis Cluster (nodes wait on shard channels there, see change-tailer.ts). */
export async function tenantPropagationCluster(count: number, out: Out): Promise<void> {
  const cluster = await startRedisCluster(3);
  try {
    const api = cluster.client();
    const node = cluster.client();
    await Promise.all([api.ping(), node.ping()]);
    await propagation(api, node, count, 'cluster-3-masters', out);
  } finally {
    await cluster.stop();
  }
}

async function clientList(c: Redis): Promise<string[]> {
  return String(await c.client('LIST'))
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** Connections one node holds with `counts` tenants in Redis (cumulative: tenants are added between counts). */
export async function connectionsPerNode(url: string, counts: readonly number[], out: Out): Promise<void> {
  const admin = new Redis(url);
  const tenants = new TenantRepository(admin);
  let made = 0;
  try {
    for (const n of counts) {
      for (; made < n; made += 100) {
        const batch = Array.from({ length: Math.min(100, n - made) }, (_, i) => `conn-tenant-${made + i}`);
        await Promise.all(batch.map((t) => tenants.create(t)));
      }
      made = n;
      const before = (await clientList(admin)).length;
      const node = new Redis(url);
      const registry = new SyncRegistry({ client: node, log: silentLogger });
      const started = performance.now();
      await registry.start(undefined, 120_000);
      const startMs = performance.now() - started;
      const list = await clientList(admin);
      out({
        metric: 'sync_connections_per_node',
        tenants: n,
        node_connections: list.length - before,
        blocking_connections: list.filter((l) => l.includes(`name=${SYNC_CONNECTION_NAME}`)).length,
        one_per_tenant_design_connections: n + 1,
        start_ms: Math.round(startMs),
      });
      await registry.stop();
      node.disconnect();
    }
  } finally {
    admin.disconnect();
  }
}
