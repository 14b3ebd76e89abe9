import { Redis } from 'ioredis';
import { silentLogger } from '../../src/log.js';
import { Notifier, type NotifierOptions } from '../../src/notify/notifier.js';
import type { NotifyInput } from '../../src/notify/notify-event.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type WebhookDeliveryOptions,
  webhookDeadLetters,
} from '../../src/notify/webhook-job.js';
import { WebhookQueue } from '../../src/notify/webhook-queue.js';
import { webhookSettingsOf } from '../../src/notify/webhook-settings.js';
import { WebhookWorker } from '../../src/notify/webhook-worker.js';
import type { SecretBox } from '../../src/secret-box.js';
import type { TenantParams } from '../../src/store/tenant-params.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { WebhookLanes } from '../../src/store/webhook-lanes.js';
import type { TestRedis } from '../support/redis-server.js';

/** Fast retries and a short time limit so the tests run in seconds. */
export const TEST_DELIVERY: WebhookDeliveryOptions = {
  ...DEFAULT_DELIVERY_OPTIONS,
  timeoutMs: 300,
  attempts: 3,
  backoffMs: 20,
  maxBackoffMs: 100,
  concurrency: 8,
};

/** A pop-up of `agent` for call `callId`, as the call path hands it to the notifier. */
export const popup = (tenant: string, agent: string, callId: string) =>
  ({
    type: 'agent.popup',
    tenant,
    data: {
      callId,
      direction: 'outbound',
      agent,
      number: '1',
      called: '1',
      calling: '2',
      ruleId: 1,
      at: new Date().toISOString(),
    },
  }) as unknown as NotifyInput;

export const SECRET = 'test-secret-0123456789abcdef';

/** The producer and the worker side of src/notify on a real Redis, as `callguard serve` wires them. */
export async function notifyStack(
  redis: TestRedis,
  options: {
    delivery?: Partial<WebhookDeliveryOptions>;
    notifier?: Partial<NotifierOptions>;
    worker?: boolean;
    /** Opens encrypted webhook secrets (the API's SecretBox). */
    box?: SecretBox;
  } = {},
) {
  const client = redis.client();
  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  workerConnection.on('error', () => undefined);
  const tenants = new TenantRepository(client);
  const settingsFor = async (t: string) => webhookSettingsOf(await tenants.params(t), options.box);
  const delivery = { ...TEST_DELIVERY, ...options.delivery };
  const queue = new WebhookQueue(client, delivery);
  const deadLetters = webhookDeadLetters(client);
  const notifier = new Notifier({ client, queue, settingsFor, log: silentLogger, options: options.notifier });
  const worker =
    options.worker === false
      ? null
      : new WebhookWorker({
          connection: workerConnection,
          settingsFor,
          lanes: new WebhookLanes(client),
          deadLetters,
          options: delivery,
          log: silentLogger,
        });
  return {
    client,
    tenants,
    queue,
    notifier,
    worker,
    deadLetters,
    async tenant(id: string, params: Partial<TenantParams>) {
      await tenants.create(id, { params });
      return id;
    },
    async close() {
      await worker?.close();
      await notifier.close(1000);
      await queue.close();
      workerConnection.disconnect();
    },
  };
}
