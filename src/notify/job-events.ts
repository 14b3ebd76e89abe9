import type { Notifier } from './notifier.js';
import type { JobFinishedData } from './notify-event.js';

/** What the bulk-jobs worker reports when a job ends (its `onFinished` option). */
export interface JobFinished {
  readonly kind: 'import' | 'export';
  readonly tenant: string;
  readonly jobId: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** Publishes `import.finished` / `export.finished`; returns the event id. Never throws, never waits. */
export function publishJobFinished(notifier: Pick<Notifier, 'publish'>, job: JobFinished): string {
  const counts: Record<string, number> = {};
  let errorsFile: boolean | undefined;
  if (job.result && typeof job.result === 'object') {
    for (const [k, v] of Object.entries(job.result as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isFinite(v)) counts[k] = v;
      else if (k === 'errorsFile' && typeof v === 'boolean') errorsFile = v;
    }
  }
  const data: JobFinishedData = {
    jobId: job.jobId,
    state: job.ok ? 'completed' : 'failed',
    ...(Object.keys(counts).length > 0 ? { counts } : {}),
    ...(errorsFile !== undefined ? { errorsFile } : {}),
    ...(job.error !== undefined ? { error: job.error } : {}),
  };
  return notifier.publish({
    type: job.kind === 'import' ? 'import.finished' : 'export.finished',
    tenant: job.tenant,
    data,
  });
}

/** The jobs worker's `onFinished` option: `startJobWorkers(deps, { ..., onFinished: jobFinishedHook(notify.notifier) })`. */
export const jobFinishedHook =
  (notifier: Pick<Notifier, 'publish'>) =>
  (job: JobFinished): void => {
    publishJobFinished(notifier, job);
  };
