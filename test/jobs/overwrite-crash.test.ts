import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BulkJobs, createBulkJobs } from '../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../src/log.js';
import { jobKeys } from '../../src/store/keys.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { seedCatalog } from './support/catalog.js';

const STORE = { streamMaxLen: 10_000, snapshotEvery: 10_000 };
const SECRET = 'test-secret-key-0123456789';

describe.skipIf(skipWithoutRedis)('overwrite import and a worker killed mid-job', () => {
  let redis: TestRedis;
  let client: Redis;
  let jobs: BulkJobs;
  let work: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis({ private: true, appendfsync: 'no' });
    client = redis.client();
    work = mkdtempSync(join(tmpdir(), 'cg-overwrite-crash-'));
    // This process only queues and watches: the workers are child processes.
    jobs = createBulkJobs(
      {
        REDIS_URL: redis.url,
        CALLGUARD_DATA_DIR: work,
        CALLGUARD_JOB_CONCURRENCY: 1,
        CALLGUARD_JOB_FILE_TTL_HOURS: 1,
        CALLGUARD_SECRET_KEY: SECRET,
      },
      client,
      STORE,
      silentLogger,
    );
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await jobs?.close();
    await redis?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const spawnWorker = () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'support', 'worker-main.ts')],
      {
        env: { ...process.env, REDIS_URL: redis.url, CALLGUARD_SECRET_KEY: SECRET, CALLGUARD_DATA_DIR: work },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    return new Promise<ChildProcess>((resolve, reject) => {
      child.stdout!.once('data', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
  };

  it('the scope holds the old rules or the new ones, never a mix, and calls see one or the other', async () => {
    const t = redis.tenant();
    await new TenantRepository(client, STORE).create(t);
    await seedCatalog(client, t, { ous: ['sales', 'support'] });
    const rules = new RuleRepository(client, STORE);
    const OLD = 20_000_000;
    const NEW = 30_000_000;
    const N_OLD = 3000;
    const N = 50_000;
    const old = Array.from({ length: N_OLD }, (_, i) => ({
      called: String(OLD + i),
      direction: 'outbound' as const,
      action: 'block' as const,
      ou: 'sales',
    }));
    await rules.writeMany(t, [
      ...old,
      { called: '555', direction: 'outbound', action: 'block', ou: 'support' },
    ]);
    await rules.publishReload(t);
    const sync = new TenantSync({
      tenant: t,
      client,
      blocking: redis.client(),
      log: silentLogger,
      store: STORE,
      blockMs: 100,
    });
    sync.start();
    await sync.ready;
    const decide = (n: number) =>
      sync
        .decider()!
        .decide({ called: String(n), calling: '37120000000', direction: 'outbound', at: Date.now() }).action;
    const observed = new Set<string>();
    const sample = () => {
      const s = [decide(OLD), decide(OLD + N_OLD - 1), decide(NEW), decide(NEW + N - 1)].join(',');
      observed.add(s);
      return s;
    };
    assert.equal(sample(), 'block,block,allow,allow');

    const first = await spawnWorker();
    const lines = ['called,action'];
    for (let i = 0; i < N; i++) lines.push(`${NEW + i},block`);
    const id = await jobs.service.submitUploadImport(
      t,
      Readable.from([`${lines.join('\n')}\n`]),
      { overrideRule: 'overwrite', ou: 'sales' },
      'u',
    );
    const mark = async () => Number((await client.hget(jobKeys(t, id).progress, 'line')) ?? 0);
    for (let i = 0; i < 6000 && (await mark()) < 5000; i++) {
      sample();
      await new Promise((r) => setTimeout(r, 5));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const at = await mark();
    assert.ok(at >= 5000 && at < N + 1, `killed mid-apply (mark ${at})`);
    // With no worker alive, calls still see the old list.
    for (let i = 0; i < 20; i++) {
      assert.equal(sample(), 'block,block,allow,allow');
      await new Promise((r) => setTimeout(r, 10));
    }

    const second = await spawnWorker();
    try {
      for (let i = 0; i < 12_000; i++) {
        const s = sample();
        const v = await jobs.service.get(t, id);
        if (v?.state === 'failed') assert.fail(JSON.stringify(v.error));
        if (v?.state === 'completed' && s === 'allow,allow,block,block') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const view = await jobs.service.get(t, id);
      assert.equal(view?.state, 'completed', JSON.stringify(view?.error));
      assert.deepEqual([view?.progress.read, view?.progress.imported, view?.result?.deleted], [N, N, N_OLD]);
    } finally {
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
      await sync.stop();
    }
    for (const s of observed)
      assert.ok(['block,block,allow,allow', 'allow,allow,block,block'].includes(s), s);
    // The store: the scope is exactly the new file; the other OU is untouched.
    const sales = new Set<string>();
    const other: string[] = [];
    for await (const batch of rules.scan(t))
      for (const r of batch) r.ou === 'sales' ? sales.add(r.called!) : other.push(r.called!);
    assert.equal(sales.size, N);
    for (let i = 0; i < N; i += 997) assert.ok(sales.has(String(NEW + i)));
    assert.ok(!sales.has(String(OLD)));
    assert.deepEqual(other, ['555']);
  });
});
