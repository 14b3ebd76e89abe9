import { withinMs } from '../bounded.js';
import { jobFinishedHook } from '../notify/job-events.js';
import type { Notifier } from '../notify/notifier.js';
import { ExpirySweeper } from '../store/expiry-sweeper.js';
import { RuleRepository } from '../store/rule-repository.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { type RoleStarter, storeOptionsOf } from './roles.js';
import { bulkJobsOf, releaseBulkJobs } from './shared-bulk-jobs.js';

/** How long stopping the worker role waits for the job workers to let go. */
const WORKER_STOP_MS = 3_000;

/**
 * The worker role: import/export job workers (CALLGUARD_JOB_CONCURRENCY each) and the expired-rule
 * sweeper; a finished job is published as `import.finished` / `export.finished` when the process's
 * event sink can publish. Stopping lets running jobs finish their current batch; a job cut short
 * resumes elsewhere.
 */
export const startWorkerRole: RoleStarter = async (ctx) => {
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
      await releaseBulkJobs(ctx.client);
    },
  };
};
