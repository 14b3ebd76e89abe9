import { cgError } from '../domain/errors.js';
import { jobKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';

/** How often a running job looks for a cancel request (between batches, at most this often). */
export const CANCEL_POLL_MS = 500;

/**
 * Cancel requests of running jobs, in Redis (the worker running the job may be on another node):
 * the API records who asked; the job's processor looks between batches and stops.
 */
export class JobCancels {
  constructor(
    private readonly client: RedisClient,
    private readonly keepSeconds: number,
  ) {}

  async request(tenant: string, jobId: string, by: string): Promise<void> {
    await this.client.set(jobKeys(tenant, jobId).cancel, by, 'EX', this.keepSeconds);
  }

  /** Who asked to cancel the job, or undefined. */
  async requestedBy(tenant: string, jobId: string): Promise<string | undefined> {
    return (await this.client.get(jobKeys(tenant, jobId).cancel)) ?? undefined;
  }

  /**
   * A check for the processor's loop that asks Redis at most every CANCEL_POLL_MS; a Redis error
   * counts as "not cancelled" (the job's own Redis writes fail and retry on their own).
   */
  poller(tenant: string, jobId: string): () => Promise<string | undefined> {
    let last = 0;
    let by: string | undefined;
    return async () => {
      if (by !== undefined || Date.now() - last < CANCEL_POLL_MS) return by;
      last = Date.now();
      by = await this.requestedBy(tenant, jobId).catch(() => undefined);
      return by;
    };
  }
}

/** The failure a cancelled job ends with (not retried; the task view shows it as cancelled). */
export function cancelledFailure(by: string, what: string) {
  return cgError('CG_ERR_CONFLICT', `cancelled by ${by}; ${what}`, { cancelled: true, by });
}
