import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ApiApp, type ApiDeps, apiDepsOver } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { bulkJobRoutes } from '../../src/api/routes/jobs.js';
import { type BulkJobs, createBulkJobs } from '../../src/jobs/bulk-jobs.js';
import type { JobView } from '../../src/jobs/job-view.js';
import { silentLogger } from '../../src/log.js';
import { jobKeys, tenantKeys } from '../../src/store/keys.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { MAIN } from '../cli/serve-support.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { skipWithoutSshd, startSftp, type TestSftp } from './support/sftp-server.js';

const STORE = { streamMaxLen: 10_000, snapshotEvery: 10_000 };
const SECRET = 'test-secret-key-0123456789';
// Rows enough that an import outlasts several progress reports and cancel checks (500 ms each)
// on a fast machine: at 150,000 a 2-core machine imported the whole file (in 0.8 s) before its
// first cancel check.
const BIG = 500_000;

const rulesFile = (count: number, start: number) => {
  const lines = ['called,direction,action'];
  for (let i = 0; i < count; i++) lines.push(`${start + i},outbound,block`);
  return `${lines.join('\n')}\n`;
};

describe.skipIf(skipWithoutRedis || skipWithoutSshd)(
  'cancelling jobs (POST /v1/jobs/{id}/cancel, callguard jobs cancel)',
  () => {
    let redis: TestRedis;
    let sftp: TestSftp;
    let client: Redis;
    let jobs: BulkJobs;
    let app: ApiApp;
    let deps: ApiDeps;
    let registry: SyncRegistry;
    let work: string;
    let base: string;
    let workersStarted = false;

    beforeAll(async () => {
      redis = await startRedis();
      sftp = await startSftp();
      client = redis.client();
      work = mkdtempSync(join(tmpdir(), 'cg-cancel-'));
      registry = new SyncRegistry({ client, log: silentLogger, store: STORE, blockMs: 200 });
      deps = apiDepsOver({
        config: { CALLGUARD_SYSTEM_KEY: 'system-key-for-tests-0123456789' },
        client,
        registry,
        log: silentLogger,
        store: STORE,
      });
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
      app = await buildApiApp(deps, { docs: false, routes: await bulkJobRoutes(jobs) });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      writeFileSync(join(sftp.root, 'big.csv'), rulesFile(BIG, 70_000_000));
    });
    afterAll(async () => {
      await app?.close();
      await jobs?.close();
      await registry?.stop();
      await sftp?.stop();
      await redis?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const tenant = async () => {
      const t = redis.tenant('cancel');
      await deps.tenants.create(t);
      // Imports check rows like the API: the OU an overwrite replaces must exist.
      await deps.catalog.putOu(t, { id: 'sales', name: 'Sales' });
      const admin = (await deps.keys.create(t, { role: 'tenant_admin' })).key;
      const reader = (await deps.keys.create(t, { role: 'agent', permissions: ['rules:read'] })).key;
      return { t, admin, reader };
    };
    const cancel = (id: string, key: string) =>
      app.inject({
        method: 'POST',
        url: `/v1/jobs/${id}/cancel`,
        headers: { authorization: `Bearer ${key}` },
      });
    const stored = async (t: string) => {
      let n = 0;
      for await (const batch of deps.rules.scan(t)) n += batch.length;
      return n;
    };
    const serverImport = async (t: string, params: Record<string, unknown> = {}) => {
      const fs = await jobs.fileServers.create(t, {
        name: 'sftp',
        host: sftp.host,
        port: sftp.port,
        username: sftp.username,
        privateKey: sftp.privateKey,
        root: sftp.root,
      });
      return jobs.service.submitServerImport(
        t,
        { serverId: fs.id, path: '', fileName: 'big.csv' },
        params,
        'u',
      );
    };
    const applying = async (t: string, id: string, pastLine: number) => {
      for (let i = 0; i < 3000; i++) {
        const h = await client.hgetall(jobKeys(t, id).progress);
        if (h.phase === 'apply' && Number(h.line ?? 0) > pastLine) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail('the import did not start applying');
    };

    it('a queued job: refused without the import permission, then cancelled by the CLI at once; it never runs', async () => {
      assert.equal(workersStarted, false, 'no worker yet: the job stays queued');
      const { t, admin, reader } = await tenant();
      const id = await jobs.service.submitUploadImport(
        t,
        Readable.from([rulesFile(10, 80_000_000)]),
        {},
        'key:admin',
      );
      assert.equal((await jobs.service.get(t, id))?.state, 'waiting');

      const refused = await cancel(id, reader);
      assert.equal(refused.statusCode, 403, refused.body);
      assert.match(refused.json().message, /rules:import/);

      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', MAIN, 'jobs', 'cancel', id, '--url', base, '--key', admin, '--json'],
        { timeout: 60_000 },
      );
      const cancelled = JSON.parse(stdout) as JobView;
      assert.equal(cancelled.state, 'cancelled');
      assert.match(cancelled.error!.message, /cancelled by key:.* before it started/);

      const listed = await app.inject({
        method: 'GET',
        url: '/v1/jobs',
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.deepEqual(
        listed.json().items.map((v: JobView) => [v.id, v.state]),
        [[id, 'cancelled']],
      );
      const again = await cancel(id, admin);
      assert.equal(again.statusCode, 409, again.body);

      jobs.startWorkers();
      workersStarted = true;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await jobs.service.get(t, id))?.state, 'cancelled');
      assert.equal(await stored(t), 0, 'a cancelled queued job imports nothing');
    });

    it('a running import stops at its next batch: what it applied stays, consistent, and call nodes see exactly that', async () => {
      const { t, admin } = await tenant();
      const id = await serverImport(t);
      await applying(t, id, 10_000);
      const res = await cancel(id, admin);
      assert.equal(res.statusCode, 202, res.body);
      const view = await jobs.service.waitFor(t, id, undefined, 60_000);
      assert.equal(view.state, 'cancelled', JSON.stringify(view));
      assert.equal(view.error?.code, 'CG_ERR_CONFLICT');
      assert.match(view.error!.message, /stopped after \d+ rows: the \d+ imported stay in effect/);
      const n = await stored(t);
      assert.ok(n > 0 && n < BIG, `stopped part-way (${n} of ${BIG})`);
      assert.equal(view.progress.imported, n, 'the task view counts exactly what is stored');
      assert.equal(await client.exists(tenantKeys(t).snapshotLock), 0, 'the snapshot lock is released');

      // A call node loading now sees the applied rows, no more, no less.
      const sync = new TenantSync({
        tenant: t,
        client,
        blocking: redis.client(),
        log: silentLogger,
        store: STORE,
      });
      sync.start();
      await sync.ready;
      assert.equal(sync.engine()?.baseRuleCount, n);
      await sync.stop();

      // Retry resumes after the applied rows and completes the file.
      await jobs.service.retry(t, id);
      const done = await jobs.service.waitFor(t, id, undefined, 120_000);
      assert.equal(done.state, 'completed', JSON.stringify(done.error));
      assert.equal(await stored(t), BIG);
    });

    it('an overwrite-all import that is replacing its scope cannot stop half-way: 409, and it completes', async () => {
      const { t, admin } = await tenant();
      const id = await serverImport(t, { overrideRule: 'overwrite', ou: 'sales' });
      await applying(t, id, 10_000);
      const res = await cancel(id, admin);
      assert.equal(res.statusCode, 409, res.body);
      assert.match(res.json().message, /cannot stop half-way/);
      const done = await jobs.service.waitFor(t, id, undefined, 120_000);
      assert.equal(done.state, 'completed', JSON.stringify(done.error));
      assert.equal(await stored(t), BIG);
    });
  },
);
