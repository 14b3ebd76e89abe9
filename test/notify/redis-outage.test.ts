import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallScreener } from '../../src/call/call-screener.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { loadConfig } from '../../src/config.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionRecorder } from '../../src/notify/decision-recorder.js';
import { recentEvents } from '../../src/notify/event-stream.js';
import { NotifyService } from '../../src/notify/notify-service.js';
import { CallStats } from '../../src/store/call-stats.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { HitCounters } from '../../src/store/hit-counters.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { notifyStack, SECRET } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

const BURST = 300;

describe.skipIf(skipWithoutLocalRedis)('Redis down during a burst of calls', () => {
  let redis: TestRedis;
  let stack: Awaited<ReturnType<typeof notifyStack>>;
  const receiver = new WebhookReceiver(SECRET);

  beforeAll(async () => {
    redis = await startRedis({ private: true });
    await receiver.start();
    stack = await notifyStack(redis, { notifier: { retryMs: 20, writeTimeoutMs: 1000 } });
    await stack.client.ping();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver.stop();
    await redis?.stop();
  });

  it('screens every call at once, buffers events and audit, and delivers all of them once Redis is back', async () => {
    const t = await stack.tenant(redis.tenant('outage'), {
      webhooks: { campaignEngineUrl: receiver.url('/campaign') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    const now = Math.floor(Date.now() / 1000) * 1000;
    const engine = DecisionEngine.fromRules(
      [{ id: 1, called: '_1404!', direction: 'outbound', action: 'block', typeId: 'wrap', updatedAt: now }],
      { types: [{ id: 'wrap', name: 'Wrap up', operation: 'auto_wrap_up', businessResult: 'DNC' }] },
    );
    const recorder = new DecisionRecorder(stack.client, silentLogger, { node: 'n1', flushMs: 60_000 });
    const screener = new CallScreener(
      new StaticDeciderSource().set(t, engine, { mode: 'digits' }),
      stack.notifier,
      Date.now,
      recorder,
    );

    await redis.kill9();
    await eventually('client sees the outage', () => stack.client.status !== 'ready');

    // The burst: every call gets its answer synchronously; nothing waits for Redis.
    for (let i = 0; i < BURST; i++) {
      const r = screener.screen({
        callId: `call-${i}`,
        tenant: t,
        direction: 'outbound',
        called: `1404555${String(i).padStart(4, '0')}`,
      });
      assert.equal(r.plan.result, 'block');
      assert.equal(r.plan.event?.type, 'call.wrapped_up');
    }
    assert.equal(stack.notifier.buffered, BURST);
    await recorder.flush(); // fails quietly: Redis is down, records stay
    assert.equal(recorder.bufferedAudit, BURST);

    await redis.restart();
    await eventually('events written', () => stack.notifier.buffered === 0, 1500);
    await recorder.flush();
    assert.equal(recorder.bufferedAudit, 0);

    const streamed = await recentEvents(stack.client, t, BURST * 2);
    assert.equal(new Set(streamed.map((s) => s.event.id)).size, BURST);
    const delivered = await eventually(
      'every wrap-up delivered',
      () => {
        const ids = new Set(
          receiver
            .at('/campaign')
            .filter((r) => r.status === 200)
            .map((r) => r.headers['x-callguard-event-id']),
        );
        return ids.size >= BURST ? ids : undefined;
      },
      1500,
    );
    assert.equal(delivered.size, BURST);
    assert.ok(receiver.at('/campaign').every((r) => r.signatureValid));
    assert.equal(stack.notifier.dropped, 0);

    const audit = await new DecisionLog(stack.client).query(t, { limit: 1000 });
    assert.equal(audit.items.length, BURST);
    assert.deepEqual(await new HitCounters(stack.client).readHits(t, [1]).then((h) => h[0]?.count), BURST);
    // The dashboard's figures count the calls of the outage too.
    const figures = await new CallStats(stack.client).window(t);
    const sum = (key: 'screened' | 'blocked') => figures.minutes.reduce((n, b) => n + b[key], 0);
    assert.deepEqual([sum('screened'), sum('blocked')], [BURST, BURST]);
    assert.equal(figures.blocksByRule.get(1), BURST);
  });

  it('drops the oldest events beyond the buffer and counts them, without blocking', async () => {
    const small = await notifyStack(redis, { worker: false, notifier: { bufferCapacity: 50, retryMs: 20 } });
    try {
      const t = await small.tenant(redis.tenant('overflow'), {});
      await redis.kill9();
      await eventually('client sees the outage', () => small.client.status !== 'ready');
      const ids: string[] = [];
      for (let i = 0; i < 80; i++) {
        ids.push(
          small.notifier.publish({
            type: 'export.finished',
            tenant: t,
            data: { jobId: `j${i}`, state: 'completed' },
          }),
        );
      }
      assert.equal(small.notifier.buffered, 50);
      assert.equal(small.notifier.dropped, 30);
      await redis.restart();
      await eventually('written', () => small.notifier.buffered === 0, 1500);
      const streamed = await recentEvents(small.client, t, 100);
      assert.deepEqual(
        streamed.map((s) => s.event.id),
        ids.slice(30),
      );
    } finally {
      await small.close();
    }
  });
});

describe.skipIf(skipWithoutLocalRedis)('stopping the notify service while Redis is down', () => {
  it('closes within a few seconds (SIGTERM must not wait for Redis), counting what it could not write', async () => {
    const redis = await startRedis({ private: true });
    const client = redis.client();
    try {
      await client.ping();
      const service = new NotifyService({
        config: loadConfig({}),
        client,
        log: silentLogger,
        worker: true,
      }).start();
      await service.queue.pending();
      await redis.kill9();
      await eventually('client sees the outage', () => client.status !== 'ready');
      service.notifier.publish({
        type: 'export.finished',
        tenant: redis.tenant('bye'),
        data: { jobId: 'j', state: 'completed' },
      });
      const t0 = performance.now();
      await service.close();
      const ms = performance.now() - t0;
      assert.ok(ms < 8_000, `close took ${Math.round(ms)} ms`);
    } finally {
      await redis.stop();
    }
  });
});
