import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { popup, SECRET } from './notify-stack.js';
import { eventually } from './webhook-receiver.js';
import { webhookSuite } from './webhook-suite.js';

/**
 * While a receiver is away, a probe tries one of its failing events far more often than the
 * attempts' backoff would; those tries cost no attempt. Once one gets through, every agent's queue
 * for that receiver starts again.
 */
describe.skipIf(skipWithoutRedis)('a receiver that is back is noticed by its probe', () => {
  const suite = webhookSuite({
    // 4 attempts spaced 0.25-0.5 s, 0.5-1 s, 1-2 s apart; the probe every 50 ms at the most.
    delivery: { attempts: 4, backoffMs: 500, maxBackoffMs: 10_000, probeMaxMs: 50 },
  });
  const { receiver } = suite;

  it('tries the receiver again and again without using up attempts, then delivers every agent’s events', async () => {
    const tenant = await suite.stack.tenant(suite.redis.tenant('back'), {
      webhooks: { agentDesktopUrl: receiver.url('/back') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    receiver.down = true;
    const dropped = () => receiver.received.length;
    for (const agent of ['a', 'b', 'c']) {
      for (let i = 0; i < 3; i++) suite.stack.notifier.publish(popup(tenant, agent, `${agent}-${i}`));
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
    const dead = await suite.stack.deadLetters.list(tenant);
    assert.equal(dead.items.length, 0, 'no event ran out of attempts during a 1.2 s outage');
    for (const r of receiver.at('/back')) {
      assert.ok(Number(r.headers['x-callguard-attempt']) <= 4, 'the attempt number stays within the limit');
    }
  });
});
