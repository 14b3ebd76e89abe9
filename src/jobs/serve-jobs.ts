import { Cluster } from 'ioredis';
import { bulkJobRoutes } from '../api/routes/jobs.js';
import { withinMs } from '../bounded.js';
import { storeOptionsOf } from '../cli/serve-builtin-roles.js';
import { registerApiRouteFactory, registerRole, type ServeContext } from '../cli/serve-roles.js';
import { jobFinishedHook } from '../notify/job-events.js';
import type { Notifier } from '../notify/notifier.js';
import { ExpirySweeper } from '../store/expiry-sweeper.js';
import { RuleRepository } from '../store/rule-repository.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { type BulkJobs, createBulkJobs } from './bulk-jobs.js';

/** The URL the process's client really uses (an embedded Redis runs on a port of its own). */
function urlOf(ctx: ServeContext): string {
  const c = ctx.client;
  if (c instanceof Cluster) return ctx.config.REDIS_URL;
  const o = c.options;
  const auth = o.password ? `${encodeURIComponent(o.username ?? '')}:${encodeURIComponent(o.password)}@` : '';
  const scheme = o.tls ? 'rediss' : 'redis';
  return `${scheme}://${auth}${o.host ?? '127.0.0.1'}:${o.port ?? 6379}/${o.db ?? 0}`;
}

/**
 * One BulkJobs per Redis client, shared by the roles that use that client, made on first use. The api
 * role brings a fail-fast connection of its own (answers 503 at once while Redis is away); the worker
 * role keeps the process's patient one (an import waits out a short outage).
 */
const shared = new Map<ServeContext['client'], { jobs: BulkJobs; users: number }>();
const bulkJobsOf = (ctx: ServeContext): BulkJobs => {
  let entry = shared.get(ctx.client);
  if (!entry) {
    entry = {
      jobs: createBulkJobs(
        { ...ctx.config, REDIS_URL: urlOf(ctx) },
        ctx.client,
        storeOptionsOf(ctx),
        ctx.log.child({ component: 'jobs' }),
      ),
      users: 0,
    };
    shared.set(ctx.client, entry);
  }
  entry.users++;
  return entry.jobs;
};
const release = async (client: ServeContext['client']) => {
  const entry = shared.get(client);
  if (!entry || --entry.users > 0) return;
  shared.delete(client);
  await entry.jobs.close();
};

/** How long stopping the worker role waits for the job workers to let go. */
const WORKER_STOP_MS = 3_000;

/**
 * The worker role: import/export job workers (CALLGUARD_JOB_CONCURRENCY each) and the expired-rule
 * sweeper. Stopping lets running jobs finish their current batch; a job cut short resumes elsewhere.
 */
registerRole('worker', async (ctx) => {
  const store = storeOptionsOf(ctx);
  const sweeper = new ExpirySweeper(
    new RuleRepository(ctx.client, store),
    new TenantRepository(ctx.client, store),
    ctx.log.child({ role: 'worker' }),
  ).start();
  const jobs = bulkJobsOf(ctx);
  const events = ctx.events as Partial<Pick<Notifier, 'publish'>>;
  const workers = jobs.startWorkers(
    typeof events.publish === 'function'
      ? { onFinished: jobFinishedHook(events as Pick<Notifier, 'publish'>) }
      : {},
  );
  return {
    stop: async () => {
      sweeper.stop();
      // A job in flight stops at its next batch (it resumes elsewhere); Redis away must not hold SIGTERM.
      const force = ctx.client.status !== 'ready';
      if (!(await withinMs(workers.close(force), WORKER_STOP_MS))) {
        ctx.log.warn({ afterMs: WORKER_STOP_MS }, 'job workers did not stop in time; leaving them');
      }
      await withinMs(release(ctx.client), 1_000).catch(() => undefined);
    },
  };
});

/** The bulk-jobs admin routes (imports, exports, file servers, schedules, jobs) on the api role. */
registerApiRouteFactory(async (ctx) => {
  const jobs = bulkJobsOf(ctx);
  const modules = await bulkJobRoutes(jobs);
  return (app, deps, auth) => {
    app.addHook('onClose', async () => {
      await withinMs(release(ctx.client), 1_000).catch(() => undefined);
    });
    for (const m of modules) m(app, deps, auth);
  };
});
