import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BulkJobs, createBulkJobs } from '../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../src/log.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutLocalRedis, startRedisCluster, type TestCluster } from '../support/redis-server.js';

const STORE = { streamMaxLen: 10_000, snapshotEvery: 10_000 };

describe.skipIf(skipWithoutLocalRedis)('bulk jobs on Redis Cluster', () => {
  let cluster: TestCluster;
  let jobs: BulkJobs;
  let work: string;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    work = mkdtempSync(join(tmpdir(), 'cg-cluster-jobs-'));
    jobs = createBulkJobs(
      {
        REDIS_URL: cluster.url,
        REDIS_CLUSTER: true,
        CALLGUARD_DATA_DIR: work,
        CALLGUARD_JOB_CONCURRENCY: 1,
        CALLGUARD_JOB_FILE_TTL_HOURS: 1,
        CALLGUARD_SECRET_KEY: 'cluster-test-secret-0123',
      },
      cluster.client(),
      STORE,
      silentLogger,
    );
    jobs.startWorkers();
  });
  afterAll(async () => {
    await jobs?.close();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('imports and exports across tenants in different slots', async () => {
    const rules = new RuleRepository(cluster.client(), STORE);
    for (const t of [cluster.tenant('a'), cluster.tenant('b'), cluster.tenant('c')]) {
      const id = await jobs.service.submitUploadImport(t, Readable.from(['called\n123\n456\n']), {}, 'u');
      const v = await jobs.service.waitFor(t, id);
      assert.equal(v.state, 'completed', JSON.stringify(v.error));
      assert.equal(v.progress.imported, 2);
      assert.equal((await rules.findByPattern(t, '456')).length, 1);
      const e = await jobs.service.submitExport(
        t,
        { target: { mode: 'download' }, password: 'Clu5ter@x' },
        'u',
      );
      const ev = await jobs.service.waitFor(t, e);
      assert.equal(ev.state, 'completed', JSON.stringify(ev.error));
      assert.equal(ev.progress.exported, 2);
    }
  });
});
