import { type ConnectionOptions, type Job, Queue } from 'bullmq';
import { type Logger, silentLogger } from '../log.js';
import { NOTIFY_QUEUE_PREFIX, WEBHOOK_QUEUE } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import {
  BACKOFF_TYPE,
  type WebhookDeadLetter,
  type WebhookDeliveryOptions,
  type WebhookJobData,
} from './webhook-job.js';

/**
 * The producer side of the durable webhook queue (BullMQ, prefix `{cg-notify}`: one hash tag, so the
 * queue works on Redis Cluster). The job id is the event id: adding the same event twice (a write
 * that timed out but landed) queues one delivery.
 */
export class WebhookQueue {
  readonly queue: Queue<WebhookJobData>;

  constructor(
    connection: RedisClient,
    private readonly options: Pick<WebhookDeliveryOptions, 'attempts'>,
    log: Logger = silentLogger,
  ) {
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, {
      connection: connection as unknown as ConnectionOptions,
      prefix: NOTIFY_QUEUE_PREFIX,
      skipWaitingForReady: true,
    });
    // The notifier retries and logs failed writes itself; this only keeps an outage from being an unhandled error.
    this.queue.on('error', (error) => log.debug({ err: error }, 'webhook queue: Redis error'));
  }

  private jobOptions(jobId: string) {
    return {
      jobId,
      attempts: this.options.attempts,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }

  async enqueue(jobs: readonly WebhookJobData[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((data) => ({ name: data.type, data, opts: this.jobOptions(data.eventId) })),
    );
  }

  /** Queues a dead letter again with a fresh set of attempts; the event id (and so the receiver's dedup key) stays. */
  async redeliver(dead: WebhookDeadLetter, now: number = Date.now()): Promise<void> {
    const data: WebhookJobData = {
      tenant: dead.tenant,
      eventId: dead.eventId,
      type: dead.type,
      target: dead.target,
      body: dead.body,
    };
    await this.queue.add(data.type, data, this.jobOptions(`${dead.eventId}-r${now}`));
  }

  /**
   * A tenant's deliveries waiting out the backoff after a failed attempt, per event type, among the
   * first `max` delayed jobs of the queue (the dashboard's "retrying").
   */
  async retrying(tenant: string, max = 1000): Promise<Map<string, number>> {
    const delayed = (await this.queue.getDelayed(0, max - 1)) as Array<Job<WebhookJobData> | undefined>;
    const out = new Map<string, number>();
    for (const job of delayed) {
      if (job?.data?.tenant !== tenant) continue;
      out.set(job.data.type, (out.get(job.data.type) ?? 0) + 1);
    }
    return out;
  }

  /** Waiting + delayed + active deliveries (for /metrics and tests). */
  async pending(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
