import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiApp, type ApiDeps, apiDepsOver } from '../../../src/api/api-deps.js';
import { buildApiApp } from '../../../src/api/app.js';
import { bulkJobRoutes } from '../../../src/api/routes/jobs.js';
import { type BulkJobs, createBulkJobs } from '../../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../../src/log.js';
import { SyncRegistry } from '../../../src/store/sync-registry.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

export const STORE = { streamMaxLen: 10_000, snapshotEvery: 1_000 };

export interface JobsApi {
  redis: TestRedis;
  deps: ApiDeps;
  jobs: BulkJobs;
  app: ApiApp;
  /** The job workers' data directory (also free for a test's own files). */
  work: string;
  stop(): Promise<void>;
}

/** A real redis-server, the bulk jobs with their workers running and the API app with the job routes. */
export async function startJobsApi(name: string, secretKey: string): Promise<JobsApi> {
  const redis = await startRedis();
  const client = redis.client();
  const work = mkdtempSync(join(tmpdir(), `cg-${name}-`));
  const registry = new SyncRegistry({ client, log: silentLogger, store: STORE, blockMs: 200 });
  const deps: ApiDeps = apiDepsOver({
    config: { CALLGUARD_SYSTEM_KEY: 'system-key-for-tests-0123456789' },
    client,
    registry,
    log: silentLogger,
    store: STORE,
  });
  const jobs = createBulkJobs(
    {
      REDIS_URL: redis.url,
      CALLGUARD_DATA_DIR: work,
      CALLGUARD_JOB_CONCURRENCY: 1,
      CALLGUARD_JOB_FILE_TTL_HOURS: 1,
      CALLGUARD_SECRET_KEY: secretKey,
    },
    client,
    STORE,
    silentLogger,
  );
  jobs.startWorkers();
  const app = await buildApiApp(deps, { docs: false, routes: await bulkJobRoutes(jobs) });
  return {
    redis,
    deps,
    jobs,
    app,
    work,
    async stop() {
      await app.close();
      await jobs.close();
      await registry.stop();
      await redis.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
