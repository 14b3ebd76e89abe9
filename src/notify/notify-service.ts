import { hostname } from 'node:os';
import { withinMs } from '../bounded.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { SecretBox } from '../secret-box.js';
import { CallStats } from '../store/call-stats.js';
import { DecisionLog } from '../store/decision-log.js';
import { HitCounters } from '../store/hit-counters.js';
import { NodeReporter } from '../store/node-reports.js';
import { blockingWorkerClient, type RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import type { TenantSyncStatus } from '../store/tenant-sync.js';
import { WebhookLanes } from '../store/webhook-lanes.js';
import { DecisionRecorder } from './decision-recorder.js';
import { Notifier } from './notifier.js';
import { SettingsCache } from './settings-cache.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type WebhookDeadLetters,
  type WebhookDeliveryOptions,
  type WebhookJobData,
  webhookDeadLetters,
} from './webhook-job.js';
import { WebhookQueue } from './webhook-queue.js';
import { webhookSettingsOf } from './webhook-settings.js';
import { WebhookWorker } from './webhook-worker.js';

export interface NotifyServiceOptions {
  readonly config: Config;
  /** The process's Redis client (commands only; never blocked on). */
  readonly client: RedisClient;
  readonly log: Logger;
  /** Run the webhook delivery worker in this process (the `worker` role). */
  readonly worker: boolean;
  /** A call node's rule sync, reported to Redis for the dashboard (call roles only). */
  readonly syncStatus?: () => readonly TenantSyncStatus[];
}

/**
 * Everything of src/notify a `callguard serve` process needs, wired from the config:
 * - `notifier`: the CallEventSink for CallScreener (and `publish()` for import/export.finished);
 * - `recorder`: the DecisionObserver for CallScreener (audit stream, hit counters);
 * - `deadLetters`, `decisionLog`, `hits`, `queue`: what the API routes read;
 * - with `worker: true`, the webhook delivery worker.
 */
export class NotifyService {
  readonly queue: WebhookQueue;
  readonly notifier: Notifier;
  readonly recorder: DecisionRecorder;
  readonly deadLetters: WebhookDeadLetters;
  readonly decisionLog: DecisionLog;
  readonly hits: HitCounters;
  readonly worker: WebhookWorker | null;
  private readonly nodeReporter: NodeReporter | null;
  private readonly workerConnection: RedisClient | null;
  private readonly log: Logger;
  private readonly client: RedisClient;

  constructor(options: NotifyServiceOptions) {
    const { config, client, log } = options;
    this.log = log.child({ component: 'notify' });
    this.client = client;
    const tenants = new TenantRepository(client);
    // The key that opens the tenants' webhook secrets (the one bulk jobs use), made on first need.
    let box: SecretBox | undefined;
    const loadSettings = async (tenant: string) => {
      const params = await tenants.params(tenant);
      box ??= params.webhookSecret === undefined ? undefined : SecretBox.fromConfig(config);
      return webhookSettingsOf(params, box);
    };
    const delivery: WebhookDeliveryOptions = {
      ...DEFAULT_DELIVERY_OPTIONS,
      timeoutMs: config.CALLGUARD_WEBHOOK_TIMEOUT_MS,
      attempts: config.CALLGUARD_WEBHOOK_ATTEMPTS,
      backoffMs: config.CALLGUARD_WEBHOOK_BACKOFF_MS,
    };
    this.queue = new WebhookQueue(client, delivery, log);
    this.deadLetters = webhookDeadLetters(client, delivery.deadLetterMaxLen);
    this.decisionLog = new DecisionLog(client);
    this.hits = new HitCounters(client);
    const cache = new SettingsCache(loadSettings);
    this.notifier = new Notifier({
      client,
      queue: this.queue,
      settingsFor: (t) => cache.get(t),
      log: log.child({ component: 'notify' }),
      options: {
        bufferCapacity: config.CALLGUARD_NOTIFY_BUFFER,
        streamMaxLen: config.CALLGUARD_EVENTS_MAXLEN,
      },
    });
    const node =
      config.NODE_NAME ??
      (hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 64) ||
        'node');
    this.nodeReporter = options.syncStatus
      ? new NodeReporter(client, node, options.syncStatus, log.child({ component: 'node-report' }))
      : null;
    this.recorder = new DecisionRecorder(client, log.child({ component: 'audit' }), {
      node,
      allowSampleRate: config.CALLGUARD_AUDIT_ALLOW_SAMPLE,
      streamMaxLen: config.CALLGUARD_AUDIT_MAXLEN,
    });
    if (options.worker) {
      // Same server as `client` (possibly the embedded one), but BullMQ blocks on its worker
      // connection and wants commands retried forever on it.
      this.workerConnection = blockingWorkerClient(client);
      this.worker = new WebhookWorker({
        connection: this.workerConnection,
        settingsFor: loadSettings,
        lanes: new WebhookLanes(client),
        deadLetters: this.deadLetters,
        options: delivery,
        log: log.child({ component: 'webhooks' }),
      });
      this.countDeliveries(this.worker, new CallStats(client));
    } else {
      this.workerConnection = null;
      this.worker = null;
    }
  }

  start(): this {
    this.recorder.start();
    this.nodeReporter?.start();
    return this;
  }

  /**
   * Per-tenant delivery figures for the dashboard, from the worker's job events: a job that ends
   * 'delivered', and a job that fails for the last time (its dead letter is written by then).
   */
  private countDeliveries(worker: WebhookWorker, stats: CallStats): void {
    const count = (data: { tenant: string; type: WebhookJobData['type'] }, result: 'delivered' | 'dead') =>
      void stats
        .countDelivery(data.tenant, data.type, result)
        .catch((error: unknown) => this.log.debug({ err: error }, 'delivery not counted'));
    worker.worker.on('completed', (job, result) => {
      if (result === 'delivered') count(job.data, 'delivered');
    });
    worker.worker.on('failed', (job, error) => {
      if (!job) return;
      const final = error?.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (final) count(job.data, 'dead');
    });
  }

  /**
   * Drain order: stop delivering, write what is buffered, close the queue. Every step is bounded
   * (about 5 s in all) so that SIGTERM ends the process while Redis is away; events not written by
   * then are counted as dropped and logged (the notifier says how many).
   */
  async close(): Promise<void> {
    this.nodeReporter?.stop();
    // Redis away: deliveries in flight cannot finish; they are picked up again (same event id) later.
    const force = this.client.status !== 'ready';
    if (this.worker && !(await withinMs(this.worker.close(force), 2_000))) {
      this.log.warn('webhook worker did not stop in 2 s (Redis away?); dropping its connections');
      this.worker.disconnect();
    }
    await Promise.all([this.notifier.close(2_000), withinMs(this.recorder.close(), 2_000)]);
    await withinMs(this.queue.close(), 1_000);
    this.workerConnection?.disconnect();
  }
}
