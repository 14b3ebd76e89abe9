import { type Job, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import { jobsActive, jobsTotal } from '../metrics.js';
import type { ExportJobData } from './export-params.js';
import type { ImportJobData } from './import-params.js';
import { type ProcessorDeps, processExport, processImport } from './job-processors.js';
import {
  bullConnectionFor,
  type JobKind,
  type JobTimingOptions,
  QUEUE_NAMES,
  QUEUE_PREFIX,
} from './job-queues.js';

export interface JobWorkerOptions extends JobTimingOptions {
  readonly redisUrl: string;
  /** REDIS_URL is a seed node of a Redis Cluster. */
  readonly cluster?: boolean;
  readonly concurrency: number;
  readonly log: Logger;
  /** Told when a job ends (the notify webhooks import.finished / export.finished). */
  readonly onFinished?: (event: {
    kind: JobKind;
    tenant: string;
    jobId: string;
    ok: boolean;
    result?: unknown;
    error?: string;
  }) => void;
  /** Records a job picked up from a schedule in the tenant's task view. */
  readonly track?: (tenant: string, kind: JobKind, jobId: string) => Promise<void>;
}

/**
 * The worker role: one BullMQ worker per queue. A worker that dies mid-job loses its lock; another
 * worker (or this one restarted) finds the job stalled and runs it again, and the job resumes from its
 * progress mark (imports) or starts over (exports, whose output only appears when complete).
 */
export function startJobWorkers(
  deps: ProcessorDeps,
  options: JobWorkerOptions,
): { close(force?: boolean): Promise<void> } {
  const { connection, close } = bullConnectionFor(options.redisUrl, options.cluster === true);
  const common = {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency,
    maxStalledCount: 5,
    ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
    ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
  };
  const run = async <T>(kind: JobKind, job: Job, work: () => Promise<T>): Promise<T> => {
    const tenant = (job.data as { tenant: string }).tenant;
    if (job.data.scheduleId) await options.track?.(tenant, kind, job.id!);
    jobsActive.inc({ kind, state: 'active' });
    try {
      const result = await work();
      jobsTotal.inc({ kind, state: 'completed' });
      options.onFinished?.({ kind, tenant, jobId: job.id!, ok: true, result });
      return result;
    } catch (error) {
      jobsTotal.inc({ kind, state: 'failed' });
      options.onFinished?.({ kind, tenant, jobId: job.id!, ok: false, error: (error as Error).message });
      throw error;
    } finally {
      jobsActive.dec({ kind, state: 'active' });
    }
  };
  const workers = [
    new Worker<ImportJobData>(
      QUEUE_NAMES.import,
      (job) => run('import', job, () => processImport(deps, job)),
      common,
    ),
    new Worker<ExportJobData>(
      QUEUE_NAMES.export,
      (job) => run('export', job, () => processExport(deps, job)),
      common,
    ),
  ];
  for (const w of workers) {
    w.on('error', (error) => options.log.warn({ err: error.message, queue: w.name }, 'job worker error'));
    w.on('failed', (job, error) =>
      options.log.warn({ job: job?.id, queue: w.name, err: error.message }, 'job failed'),
    );
  }
  return {
    /** force: without waiting for the jobs in flight (Redis away: they resume from their mark later). */
    close: async (force = false) => {
      await Promise.all(workers.map((w) => w.close(force)));
      close();
    },
  };
}
