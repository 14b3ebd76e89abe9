import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { notifyStack, popup, SECRET } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

/**
 * While a receiver is away, a probe tries one of its failing events far more often than the
 * attempts' backoff would; those tries cost no attempt. Once one gets through, every agent's queue
 * for that receiver starts again.
 */
describe.skipIf(skipWithoutRedis)('a receiver that is back is noticed by its probe', () => {
  let redis: TestRedis;
  let stack: Awaited<ReturnType<typeof notifyStack>>;
  const receiver = new WebhookReceiver(SECRET);

  beforeAll(async () => {
    redis = await startRedis();
    await receiver.start();
    // 4 attempts spaced 0.25-0.5 s, 0.5-1 s, 1-2 s apart; the probe every 50 ms at the most.
    stack = await notifyStack(redis, {
      delivery: { attempts: 4, backoffMs: 500, maxBackoffMs: 10_000, probeMaxMs: 50 },
    });
  });
  afterAll(async () => {
    receiver.down = false;
    await stack?.close();
    await receiver.stop();
    await redis?.stop();
  });

  it('tries the receiver again and again without using up attempts, then delivers every agent’s events', async () => {
    const tenant = await stack.tenant(redis.tenant('back'), {
      webhooks: { agentDesktopUrl: receiver.url('/back') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    receiver.down = true;
    const dropped = () => receiver.received.length;
    for (const agent of ['a', 'b', 'c']) {
      for (let i = 0; i < 3; i++) stack.notifier.publish(popup(tenant, agent, `${agent}-${i}`));
    }
    // Many probe tries reach the receiver's host meanwhile (they are dropped, so not recorded).
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(dropped(), 0);
    receiver.down = false;
    const ok = await eventually('all nine events delivered', () => {
      const ids = new Set(
        receiver
          .at('/back')
          .filter((r) => r.status === 200)
          .map((r) => r.body),
      );
      return ids.size === 9 ? ids : undefined;
    });
    assert.equal(ok.size, 9);
    const dead = await stack.deadLetters.list(tenant);
    assert.equal(dead.items.length, 0, 'no event ran out of attempts during a 1.2 s outage');
    for (const r of receiver.at('/back')) {
      assert.ok(Number(r.headers['x-callguard-attempt']) <= 4, 'the attempt number stays within the limit');
    }
  });
});
