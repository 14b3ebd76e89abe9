import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { type ApiApp, type ApiDeps, apiDepsOver } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { deadLetterRoutes } from '../../src/api/routes/dead-letters.js';
import { decisionRoutes } from '../../src/api/routes/decisions.js';
import { bulkJobRoutes } from '../../src/api/routes/jobs.js';
import { type BulkJobs, createBulkJobs } from '../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../src/log.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type WebhookDeadLetters,
  webhookDeadLetters,
} from '../../src/notify/webhook-job.js';
import { WebhookQueue } from '../../src/notify/webhook-queue.js';
import type { ApiKeyInput } from '../../src/store/api-key-repository.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { HitCounters } from '../../src/store/hit-counters.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { apiRequests, SYSTEM_KEY } from './api-harness.js';

/** The API with every route module `callguard serve` mounts (core, bulk jobs, notify), over a real Redis. */
export interface FullApi {
  readonly redis: TestRedis;
  readonly app: ApiApp;
  readonly deps: ApiDeps;
  readonly jobs: BulkJobs;
  readonly deadLetters: WebhookDeadLetters;
  tenant(label?: string): Promise<{ id: string; admin: string }>;
  key(tenant: string, input: ApiKeyInput): Promise<string>;
  call(
    method: string,
    url: string,
    key: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  stop(): Promise<void>;
}

export async function startFullApi(name: string): Promise<FullApi> {
  const redis = await startRedis();
  const client = redis.client();
  const work = mkdtempSync(join(tmpdir(), `cg-${name}-`));
  const store = { streamMaxLen: 10_000, snapshotEvery: 1_000 };
  const registry = new SyncRegistry({ client, log: silentLogger, store, blockMs: 200 });
  const deps = apiDepsOver({
    config: { CALLGUARD_SYSTEM_KEY: SYSTEM_KEY },
    client,
    registry,
    log: silentLogger,
    store,
  });
  const jobs = createBulkJobs(
    {
      REDIS_URL: redis.url,
      CALLGUARD_DATA_DIR: work,
      CALLGUARD_JOB_CONCURRENCY: 1,
      CALLGUARD_JOB_FILE_TTL_HOURS: 1,
      CALLGUARD_SECRET_KEY: 'full-api-secret-key-0123456789abcdef',
    },
    client,
    store,
    silentLogger,
  );
  const workers = jobs.startWorkers();
  const queue = new WebhookQueue(client, DEFAULT_DELIVERY_OPTIONS);
  const deadLetters = webhookDeadLetters(client);
  const app = await buildApiApp(deps, {
    docs: false,
    routes: [
      ...(await bulkJobRoutes(jobs)),
      deadLetterRoutes({ deadLetters, queue }),
      decisionRoutes({ decisionLog: new DecisionLog(client), hits: new HitCounters(client) }),
    ],
  });
  return {
    ...apiRequests(redis, app, deps),
    jobs,
    deadLetters,
    async stop() {
      await app.close();
      await workers.close();
      await queue.close();
      await jobs.close();
      await registry.stop();
      await redis.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
