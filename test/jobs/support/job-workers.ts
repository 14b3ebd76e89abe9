import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { type BulkJobs, createBulkJobs } from '../../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../../src/log.js';
import { RuleRepository } from '../../../src/store/rule-repository.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';

export const STORE = { streamMaxLen: 10_000, snapshotEvery: 10_000 };

/** A private redis-server with the bulk jobs and their workers running in this process. */
export interface JobWorkers {
  readonly redis: TestRedis;
  readonly client: Redis;
  readonly jobs: BulkJobs;
  readonly rules: RuleRepository;
  /** The workers' data folder, free for a test's own files too. */
  readonly work: string;
  stop(): Promise<void>;
}

export async function startJobWorkers(name: string): Promise<JobWorkers> {
  const redis = await startRedis({ private: true, appendfsync: 'no' });
  const client = redis.client();
  const work = mkdtempSync(join(tmpdir(), `cg-${name}-`));
  const jobs = createBulkJobs(
    {
      REDIS_URL: redis.url,
      CALLGUARD_DATA_DIR: work,
      CALLGUARD_JOB_CONCURRENCY: 2,
      CALLGUARD_JOB_FILE_TTL_HOURS: 1,
      CALLGUARD_SECRET_KEY: 'test-secret-key-0123456789',
    },
    client,
    STORE,
    silentLogger,
  );
  jobs.startWorkers({ stalledIntervalMs: 500, lockDurationMs: 1500 });
  return {
    redis,
    client,
    jobs,
    rules: new RuleRepository(client, STORE),
    work,
    async stop() {
      await jobs.close();
      await redis.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
