import { afterAll, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { notifyStack, SECRET } from './notify-stack.js';
import { WebhookReceiver } from './webhook-receiver.js';

type NotifyStack = Awaited<ReturnType<typeof notifyStack>>;

/**
 * What a describe block of webhook tests runs on: a Redis, a webhook receiver that checks
 * signatures, and the notify stack (notifier and worker) with `options`. They start in beforeAll and
 * stop in afterAll, the receiver answering again first; `redis` and `stack` are there from
 * beforeAll on.
 */
export function webhookSuite(options: Parameters<typeof notifyStack>[1] = {}) {
  const receiver = new WebhookReceiver(SECRET);
  let redis: TestRedis | undefined;
  let stack: NotifyStack | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    await receiver.start();
    stack = await notifyStack(redis, options);
  });
  afterAll(async () => {
    receiver.down = false;
    await stack?.close();
    await receiver.stop();
    await redis?.stop();
  });
  return {
    receiver,
    get redis(): TestRedis {
      if (!redis) throw new Error('webhookSuite: redis is there from beforeAll on');
      return redis;
    },
    get stack(): NotifyStack {
      if (!stack) throw new Error('webhookSuite: the stack is there from beforeAll on');
      return stack;
    },
  };
}
