import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Rule } from '../src/domain/rule.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { decodeSnapshot, encodeSnapshot } from '../src/engine/snapshot-codec.js';
import { IMPORT_BATCH, IMPORT_IN_FLIGHT } from '../src/jobs/import-runner.js';
import { silentLogger } from '../src/log.js';
import { applyImportBatch } from '../src/store/job-scripts.js';
import { ruleBucketOf, tenantKeys } from '../src/store/keys.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { encodeRule } from '../src/store/rule-codec.js';
import { RuleRepository } from '../src/store/rule-repository.js';
import { SnapshotBuilder } from '../src/store/snapshot-builder.js';
import type { CompilerConnection } from '../src/store/snapshot-compiler.js';
import { SnapshotStore } from '../src/store/snapshot-store.js';
import { TenantSync } from '../src/store/tenant-sync.js';
import { connectionsPerNode, tenantPropagation, tenantPropagationCluster } from './store-tenants.js';
import { syntheticRules } from './synthetic-rules.js';

/**
 * `npm run bench -- store [--sizes 1000000,10000000] [--writes 2000] [--propagation 500]
 *   [--tenant-propagation 300] [--tenants-only]`
 * One JSON object per line: single-rule writes, write → decide() propagation on another node, bulk
 * write throughput (pipelined Lua) beside the `redis-cli --pipe` ceiling for the same data, Redis
 * memory per stored rule, the cold start of a node from the cached snapshot, a new tenant → known on
 * another node, and connections per node at 1, 100 and 1,000 tenants. Each size runs on a
 * private redis-server (AOF on, appendfsync everysec).
 */
const arg = (args: string[], name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const out = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'store', ...o }));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

interface Server {
  proc: RedisProcess;
  client: Redis;
  dir: string;
  stop(): Promise<void>;
}

async function server(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-'));
  const proc = await RedisProcess.start({ dir, port: await freePort(), appendfsync: 'everysec' });
  const client = new Redis(proc.url, { maxRetriesPerRequest: null });
  return {
    proc,
    client,
    dir,
    stop: async () => {
      client.disconnect();
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const usedMemory = async (c: Redis) => Number((await c.info('memory')).match(/used_memory:(\d+)/)![1]);

/** The synthetic carrier tenant without ids (the store gives them out). */
function* drafts(n: number): Generator<Omit<Rule, 'id'>> {
  for (const { id: _id, ...rule } of syntheticRules(n - Math.floor(n / 50), Math.floor(n / 50))) yield rule;
}

async function singleWrites(s: Server, count: number) {
  const repo = new RuleRepository(s.client);
  const times: number[] = [];
  const start = performance.now();
  let i = 0;
  for (const draft of drafts(count)) {
    const t0 = performance.now();
    await repo.create('single', draft, 'skip');
    times.push(performance.now() - t0);
    i++;
  }
  const elapsed = performance.now() - start;
  times.sort((a, b) => a - b);
  out({
    metric: 'single_rule_write',
    writes: i,
    writes_per_sec: Math.round((i / elapsed) * 1000),
    p50_ms: round(pct(times, 0.5), 3),
    p99_ms: round(pct(times, 0.99), 3),
  });
}

async function propagation(s: Server, count: number) {
  const repo = new RuleRepository(s.client);
  await repo.writeMany('prop', drafts(100_000));
  await repo.publishReload('prop');
  const node = new TenantSync({
    tenant: 'prop',
    client: s.client,
    blocking: s.client.duplicate(),
    log: silentLogger,
    buildSnapshots: false,
  }).start();
  await node.ready;
  const times: number[] = [];
  const writes: number[] = [];
  for (let i = 0; i < count; i++) {
    const called = `1999${String(i).padStart(7, '0')}`;
    const sent = performance.now();
    const { version } = await repo.create('prop', { called, direction: 'outbound', action: 'block' });
    const acked = performance.now();
    writes.push(acked - sent);
    // waitFor resolves when the node swapped in the engine holding this change.
    await node.waitFor(version, 10_000);
    times.push(performance.now() - acked);
    if (
      node.decider()!.decide({ called, calling: '', direction: 'outbound', at: Date.now() }).action !==
      'block'
    ) {
      throw new Error(`rule ${called} not visible after its version`);
    }
  }
  await node.stop();
  times.sort((a, b) => a - b);
  writes.sort((a, b) => a - b);
  out({
    metric: 'propagation_write_ack_to_decide',
    write_p50_ms: round(pct(writes, 0.5), 3),
    samples: count,
    p50_ms: round(pct(times, 0.5), 3),
    p99_ms: round(pct(times, 0.99), 3),
    max_ms: round(times[times.length - 1]!, 3),
  });
}

/** The same rule bucket HSETs as RESP through `redis-cli --pipe`: what Redis takes with no script at all. */
async function pipeCeiling(n: number) {
  const s = await server();
  try {
    const file = join(s.dir, 'rules.resp');
    const stream = createWriteStream(file);
    const resp = (...parts: string[]) =>
      `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
    const k = tenantKeys('pipe');
    let id = 0;
    for (const rule of drafts(n)) {
      id++;
      if (!stream.write(resp('HSET', k.ruleBucket(ruleBucketOf(id)), String(id), encodeRule(rule)))) {
        await new Promise<void>((r) => stream.once('drain', () => r()));
      }
    }
    await new Promise<void>((r) => stream.end(r));
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-c', `redis-cli -p ${s.proc.port} --pipe < '${file}'`], {
        stdio: 'ignore',
      });
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}`)),
      );
    });
    return Math.round((n / (performance.now() - start)) * 1000);
  } finally {
    await s.stop();
  }
}

/** Microseconds Redis spent running scripts since the last RESETSTAT: less noisy than wall time. */
async function scriptMicros(c: Redis): Promise<number> {
  const stats = await c.info('commandstats');
  let usec = 0;
  for (const m of stats.matchAll(/cmdstat_(?:eval|evalsha):calls=\d+,usec=(\d+)/g)) usec += Number(m[1]);
  return usec;
}

/**
 * The bulk write path of imports: encoded rules through import-batch-3.lua (duplicate check, ids,
 * indexes, progress mark) in the import job's batches, pipelined as the job does. The rules are
 * encoded before the clock starts, as the ceiling's file is written before it.
 */
async function importPath(s: Server, tenant: string, n: number) {
  const encoded: string[] = [];
  for (const rule of drafts(n)) encoded.push(encodeRule(rule));
  const inFlight: Array<Promise<{ imported: number; skipped: number }>> = [];
  let imported = 0;
  let skipped = 0;
  const count = (r: { imported: number; skipped: number }) => {
    imported += r.imported;
    skipped += r.skipped;
  };
  await s.client.config('RESETSTAT');
  const start = performance.now();
  for (let i = 0; i < encoded.length; i += IMPORT_BATCH) {
    const rules = encoded.slice(i, i + IMPORT_BATCH);
    const batch = { first: i + 2, last: i + 1 + rules.length, read: rules.length, errors: [], rules };
    inFlight.push(
      applyImportBatch(s.client, tenant, 'bench', batch, {
        mode: 'skip',
        keepErrors: 0,
        trackSeen: false,
      }),
    );
    if (inFlight.length >= IMPORT_IN_FLIGHT) count(await inFlight.shift()!);
  }
  for (const r of await Promise.all(inFlight)) count(r);
  const seconds = (performance.now() - start) / 1000;
  // The random numbers repeat now and then (same number and conditions): those rows are skipped.
  if (imported + skipped !== n) throw new Error(`imported ${imported} and skipped ${skipped} of ${n} rows`);
  return { perSec: Math.round(n / seconds), imported, scriptUsPerRule: (await scriptMicros(s.client)) / n };
}

/**
 * A snapshot rebuild of tenant `bulk` as a node does it (on a worker thread when `thread` is given),
 * with the longest the event loop was held up meanwhile: how long calls would have waited.
 */
async function snapshotBuild(s: Server, thread: CompilerConnection | undefined) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const start = performance.now();
  await new SnapshotBuilder(s.client, silentLogger, undefined, thread).build('bulk', 3_600_000);
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  return { seconds, maxDelayMs: Math.round(delay.max / 1e6) };
}

/** The API's bulk write (`writeMany`: each rule validated, encoded and written by write-rules-3.lua). */
async function apiBulkWrite(s: Server, tenant: string, n: number) {
  const repo = new RuleRepository(s.client);
  const start = performance.now();
  const results = await repo.writeMany(tenant, drafts(n), { duplicates: 'skip' });
  const seconds = (performance.now() - start) / 1000;
  if (results.length !== n) throw new Error(`writeMany answered ${results.length} of ${n} rules`);
  return Math.round(n / seconds);
}

async function atSize(n: number) {
  const s = await server();
  try {
    const repo = new RuleRepository(s.client);
    const before = await usedMemory(s.client);
    const { perSec: importRate, imported: stored, scriptUsPerRule } = await importPath(s, 'bulk', n);
    await repo.publishReload('bulk');
    const rulesMemory = (await usedMemory(s.client)) - before;
    const ceiling = await pipeCeiling(n);
    out({
      metric: 'bulk_write',
      rules: n,
      import_path_rules_per_sec: importRate,
      import_path_redis_script_us_per_rule: round(scriptUsPerRule),
      redis_cli_pipe_plain_hset_per_sec: ceiling,
    });
    const threaded = await snapshotBuild(s, { url: s.proc.url });
    const pointer = (await new SnapshotStore(s.client).pointer('bulk'))!;
    const withSnapshot = (await usedMemory(s.client)) - before;
    out({
      metric: 'redis_memory_per_rule',
      rules: stored,
      bytes_per_rule: round(rulesMemory / stored, 1),
      bytes_per_rule_with_cached_snapshot: round(withSnapshot / stored, 1),
      snapshot_bytes: pointer.bytes,
      snapshot_build_seconds: round(threaded.seconds, 1),
    });
    // The same rebuild compiled on the event loop, for comparison (skipped where it takes minutes).
    const inline = n <= 1_000_000 ? await snapshotBuild(s, undefined) : undefined;
    out({
      metric: 'snapshot_rebuild_event_loop',
      rules: stored,
      worker_thread_seconds: round(threaded.seconds, 1),
      worker_thread_loop_max_delay_ms: threaded.maxDelayMs,
      event_loop_seconds: inline && round(inline.seconds, 1),
      event_loop_max_delay_ms: inline?.maxDelayMs,
    });
    await coldStart(s.proc.url, 'bulk', await persistenceIdle(s.client));
    const apiRules = Math.min(n, 100_000);
    out({ metric: 'api_bulk_write', rules: apiRules, rules_per_sec: await apiBulkWrite(s, 'api', apiRules) });
  } finally {
    await s.stop();
  }
}

/**
 * Waits (at most 5 minutes) until Redis is not rewriting its AOF or saving an RDB: on two cores, the
 * fork writing gigabytes competes with the node being measured. Returns the milliseconds waited
 * (at least the half second given to Redis's cron).
 */
async function persistenceIdle(c: Redis): Promise<number> {
  const start = performance.now();
  // Redis's cron (every 100 ms) starts a rewrite that the last writes called for: give it the time.
  await new Promise((r) => setTimeout(r, 500));
  while (performance.now() - start < 300_000) {
    const info = await c.info('persistence');
    if (!/aof_rewrite_in_progress:1|rdb_bgsave_in_progress:1/.test(info)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return Math.round(performance.now() - start);
}

/**
 * Cold start as a node does it: a fresh process (no heap of its own to collect) reads the snapshot in
 * one round trip and decodes it, then a TenantSync is ready.
 */
async function coldStart(url: string, tenant: string, waitedMs = 0) {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname], {
    env: {
      ...process.env,
      CG_BENCH_COLD_URL: url,
      CG_BENCH_COLD_TENANT: tenant,
      CG_BENCH_COLD_WAITED_MS: String(waitedMs),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await new Promise<void>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`cold start child exited ${code}`)),
    ),
  );
}

async function coldStartChild(url: string, tenant: string) {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const t0 = performance.now();
  const snap = (await new SnapshotStore(client).read(tenant))!;
  const fetched = performance.now();
  const decoded = decodeSnapshot(snap.bytes);
  const t1 = performance.now();
  const node = new TenantSync({
    tenant,
    client,
    blocking: client.duplicate(),
    log: silentLogger,
    buildSnapshots: false,
  }).start();
  await node.ready;
  const t2 = performance.now();
  await node.stop();
  client.disconnect();
  out({
    metric: 'cold_start',
    rules: decoded.engine.baseRuleCount,
    snapshot_bytes: snap.bytes.length,
    fetch_ms: Math.round(fetched - t0),
    decode_ms: Math.round(t1 - fetched),
    fetch_plus_decode_ms: Math.round(t1 - t0),
    tenant_sync_ready_ms: Math.round(t2 - t1),
    waited_for_aof_rewrite_ms: Number(process.env.CG_BENCH_COLD_WAITED_MS ?? 0),
  });
}

/** `--cold-only N`: store a snapshot of N synthetic rules compiled here, then only the cold start. */
async function coldOnly(n: number) {
  const s = await server();
  try {
    const engine = DecisionEngine.fromRules(syntheticRules(n - Math.floor(n / 50), Math.floor(n / 50)));
    const bytes = encodeSnapshot(engine, { version: '1-0' });
    await s.client.hset(tenantKeys('cold').tenant, 'name', 'cold');
    await new SnapshotStore(s.client).write('cold', bytes, '1-0');
    await coldStart(s.proc.url, 'cold', await persistenceIdle(s.client));
  } finally {
    await s.stop();
  }
}

/** New tenant → known on another node, and connections per node at 1, 100 and 1,000 tenants. */
async function tenantFigures(args: string[]) {
  const s = await server();
  try {
    await tenantPropagation(s.proc.url, Number(arg(args, 'tenant-propagation', '300')), out);
  } finally {
    await s.stop();
  }
  await tenantPropagationCluster(Number(arg(args, 'tenant-propagation', '300')), out);
  const c = await server();
  try {
    await connectionsPerNode(c.proc.url, [1, 100, 1000], out);
  } finally {
    await c.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--cold-only')) return coldOnly(Number(arg(args, 'cold-only', '1000000')));
  if (args.includes('--tenants-only')) return tenantFigures(args);
  const sizes = arg(args, 'sizes', '100000').split(',').map(Number);
  out({
    metric: 'machine',
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    redis: execFileSync('redis-server', ['--version']).toString().trim(),
    node: process.version,
  });
  const s = await server();
  try {
    await singleWrites(s, Number(arg(args, 'writes', '2000')));
    await propagation(s, Number(arg(args, 'propagation', '500')));
  } finally {
    await s.stop();
  }
  await tenantFigures(args);
  for (const n of sizes) await atSize(n);
}

export default run;

if (process.env.CG_BENCH_COLD_URL) {
  await coldStartChild(process.env.CG_BENCH_COLD_URL, process.env.CG_BENCH_COLD_TENANT ?? 'bulk');
  process.exit(0);
}
