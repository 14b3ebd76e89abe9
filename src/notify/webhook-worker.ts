import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { RedisClient } from '../store/redis-client.js';
import type { DeadLetterRepository } from './dead-letters.js';
import { NOTIFY_QUEUE_PREFIX, WEBHOOK_QUEUE } from './notify-keys.js';
import { webhookDeliveriesTotal } from './notify-metrics.js';
import { type DeliveryResult, WebhookSender } from './webhook-delivery.js';
import {
  BACKOFF_TYPE,
  backoffDelay,
  type WebhookDeliveryOptions,
  type WebhookJobData,
} from './webhook-job.js';
import { delivers, urlOf, type WebhookSettings } from './webhook-settings.js';

export interface WebhookWorkerDeps {
  /** A connection the worker may block on (BullMQ needs maxRetriesPerRequest: null). */
  readonly connection: RedisClient;
  /** The tenant's current webhook settings (read at every attempt). */
  readonly settingsFor: (tenant: string) => Promise<WebhookSettings>;
  readonly deadLetters: DeadLetterRepository;
  readonly options: WebhookDeliveryOptions;
  readonly log: Logger;
  readonly now?: () => number;
  /**
   * A retry succeeded: the receiver is back. The service runs that receiver's other waiting retries
   * at once (WebhookQueue.promoteRetries), so an outage ends with everything delivered in seconds.
   */
  readonly onReceiverBack?: (tenant: string, target: WebhookJobData['target']) => Promise<unknown>;
}

/** A receiver's waiting retries are promoted at most this often. */
const PROMOTE_EVERY_MS = 1000;

/**
 * Delivers queued webhooks: signed POST, time limit, retries with exponential backoff and jitter;
 * the last failure (or a permanent one, such as a refused private target) lands in the tenant's
 * dead-letter list. Runs in the `worker` role, never on a call's path.
 */
export class WebhookWorker {
  readonly worker: Worker<WebhookJobData>;
  private readonly sender = new WebhookSender();
  private readonly now: () => number;
  private readonly promotedAt = new Map<string, number>();

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.now = deps.now ?? Date.now;
    const { backoffMs, maxBackoffMs } = deps.options;
    this.worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, (job) => this.process(job), {
      connection: deps.connection as unknown as ConnectionOptions,
      prefix: NOTIFY_QUEUE_PREFIX,
      concurrency: deps.options.concurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === BACKOFF_TYPE ? backoffDelay(attemptsMade, backoffMs, maxBackoffMs) : backoffMs,
      },
    });
    this.worker.on('error', (error) => deps.log.warn({ err: error }, 'webhook worker: Redis error'));
  }

  private async process(job: Job<WebhookJobData>): Promise<string> {
    const data = job.data;
    const attempt = job.attemptsMade + 1;
    const settings = await this.deps.settingsFor(data.tenant);
    const url = urlOf(settings, data.target);
    // Switched off (or unconfigured) after the event was queued: the tenant no longer wants it.
    if (settings.disabledEvents.has(data.type) || !url || !delivers(settings, data.target)) return 'skipped';
    const result: DeliveryResult = settings.secretError
      ? { ok: false, permanent: true, error: settings.secretError }
      : await this.sender.send(
          {
            url,
            secret: settings.secret,
            eventId: data.eventId,
            type: data.type,
            body: data.body,
            attempt,
            allowPrivateTargets: settings.allowPrivateTargets,
            timeoutMs: this.deps.options.timeoutMs,
          },
          this.now(),
        );
    if (result.ok) {
      webhookDeliveriesTotal.inc({ result: 'delivered' });
      if (attempt > 1) this.receiverBack(data);
      return 'delivered';
    }
    const attempts = job.opts.attempts ?? this.deps.options.attempts;
    const last = result.permanent || attempt >= attempts;
    const log = {
      tenant: data.tenant,
      eventId: data.eventId,
      type: data.type,
      attempt,
      status: result.status,
    };
    if (!last) {
      webhookDeliveriesTotal.inc({ result: 'failed' });
      this.deps.log.info({ ...log, error: result.error }, 'webhook attempt failed; will retry');
      throw new Error(result.error);
    }
    webhookDeliveriesTotal.inc({ result: result.permanent ? 'refused' : 'dead' });
    await this.deps.deadLetters.add(data, {
      url,
      attempts: attempt,
      status: result.status,
      error: result.error,
      at: this.now(),
    });
    this.deps.log.warn({ ...log, error: result.error }, 'webhook moved to the dead-letter list');
    throw new UnrecoverableError(result.error);
  }

  private receiverBack(data: WebhookJobData): void {
    const onBack = this.deps.onReceiverBack;
    if (!onBack) return;
    const key = `${data.tenant}\u0000${data.target}`;
    const t = this.now();
    if (t - (this.promotedAt.get(key) ?? 0) < PROMOTE_EVERY_MS) return;
    if (this.promotedAt.size > 10_000) this.promotedAt.clear();
    this.promotedAt.set(key, t);
    onBack(data.tenant, data.target).catch((error: unknown) =>
      this.deps.log.debug({ err: error, tenant: data.tenant }, 'waiting retries not promoted'),
    );
  }

  /** Finishes the deliveries in flight, then stops; `force`: without waiting for them (Redis away). */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.sender.close();
  }

  /** Lets go of the worker's connections at once (after a close that Redis did not let finish). */
  disconnect(): void {
    void this.worker.disconnect().catch(() => undefined);
  }
}
