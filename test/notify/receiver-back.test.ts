import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { NotifyInput } from '../../src/notify/notify-event.js';
import type { WebhookJobData } from '../../src/notify/webhook-job.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { notifyStack, SECRET } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

const popup = (tenant: string, n: number) =>
  ({
    type: 'agent.popup',
    tenant,
    data: {
      callId: `c${n}`,
      direction: 'outbound',
      agent: 'a1',
      number: '1',
      called: '1',
      calling: '2',
      ruleId: 1,
      at: new Date().toISOString(),
    },
  }) as unknown as NotifyInput;

/**
 * After an outage, retries wait out an exponential backoff (up to minutes). When one retry gets
 * through, the receiver is back: its other waiting retries run at once, other receivers' do not.
 */
describe.skipIf(skipWithoutRedis)('a receiver that is back gets its waiting retries at once', () => {
  let redis: TestRedis;
  let stack: Awaited<ReturnType<typeof notifyStack>>;
  const receiver = new WebhookReceiver(SECRET);

  beforeAll(async () => {
    redis = await startRedis();
    await receiver.start();
    stack = await notifyStack(redis);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver.stop();
    await redis?.stop();
  });

  it('promotes the same receiver’s retries after a retry succeeds, and leaves other receivers’ alone', async () => {
    const params = (path: string) => ({
      webhooks: { agentDesktopUrl: receiver.url(path) },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    const back = await stack.tenant(redis.tenant('back'), params('/back'));
    const down = await stack.tenant(redis.tenant('down'), params('/down'));
    // retries of an outage, each waiting out a long backoff
    const waiting = (tenant: string, n: number): WebhookJobData => ({
      tenant,
      eventId: `waiting-${tenant}-${n}`,
      type: 'agent.popup',
      target: 'agentDesktop',
      body: JSON.stringify({ id: `waiting-${tenant}-${n}` }),
    });
    for (const [tenant, n] of [
      [back, 1],
      [back, 2],
      [down, 1],
    ] as const) {
      await stack.queue.queue.add('agent.popup', waiting(tenant, n), {
        jobId: `waiting-${tenant}-${n}`,
        delay: 60_000,
        attempts: 3,
      });
    }
    // a fresh event fails once, its retry (backoff 20 ms in tests) gets through
    receiver.on('/back', { kind: 'fail', times: 1 });
    stack.notifier.publish(popup(back, 1));
    const delivered = await eventually('the waiting retries of the receiver that is back delivered', () => {
      const ids = receiver
        .at('/back')
        .filter((r) => r.status === 200)
        .map((r) => r.headers['x-callguard-event-id']);
      return ids.includes(`waiting-${back}-1`) && ids.includes(`waiting-${back}-2`) ? ids : undefined;
    });
    assert.ok(delivered.length >= 3);
    const counts = await stack.queue.queue.getJobCounts('delayed');
    assert.equal(counts.delayed, 1, "the other receiver's retry still waits");
    assert.equal(receiver.at('/down').length, 0);
  });
});
