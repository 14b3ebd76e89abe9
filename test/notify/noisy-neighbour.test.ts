import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { popup, SECRET } from './notify-stack.js';
import { eventually } from './webhook-receiver.js';
import { webhookSuite } from './webhook-suite.js';

const TIMEOUT_MS = 3000;
const CONCURRENCY = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One tenant's receiver that never answers must not hold back another tenant's pop-ups: it may
 * take at most half the worker's deliveries at once, and once it has let an attempt run out of
 * time, one at a time (the others fail at once, as attempts, until it answers again).
 */
describe.skipIf(skipWithoutRedis)('a receiver that never answers and its neighbours', () => {
  const suite = webhookSuite({
    delivery: {
      timeoutMs: TIMEOUT_MS,
      concurrency: CONCURRENCY,
      attempts: 30,
      backoffMs: 200,
      maxBackoffMs: 400,
      probeMaxMs: 400,
    },
  });
  const { receiver } = suite;

  it('delivers the quiet tenant’s pop-ups while the silent one’s attempts hang, then the silent one’s once it answers', async () => {
    const params = (path: string) => ({
      webhooks: { agentDesktopUrl: receiver.url(path) },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    const silent = await suite.stack.tenant(suite.redis.tenant('silent'), params('/silent'));
    const quiet = await suite.stack.tenant(suite.redis.tenant('quiet'), params('/quiet'));
    receiver.on('/silent', { kind: 'slow', ms: 60_000 });
    const abandoned = () => receiver.abandoned.get('/silent') ?? 0;
    const quietDelivered = (callId: string) =>
      receiver
        .at('/quiet')
        .some((r) => (JSON.parse(r.body) as { data: { callId: string } }).data.callId === callId);

    // Twelve agents of the silent tenant, then one pop-up of the quiet tenant behind them.
    const silentCalls: string[] = [];
    const publishSilent = (agent: string, callId: string) => {
      silentCalls.push(callId);
      suite.stack.notifier.publish(popup(silent, agent, callId));
    };
    for (let i = 0; i < 12; i++) publishSilent(`s${i}`, `silent-${i}`);
    await eventually('the silent receiver holds requests', () => (receiver.open.get('/silent') ?? 0) > 0);
    suite.stack.notifier.publish(popup(quiet, 'q', 'quiet-0'));
    await eventually('the quiet pop-up delivered', () => quietDelivered('quiet-0'));
    assert.equal(abandoned(), 0, 'the quiet pop-up did not wait for a silent attempt to run out of time');

    // For two time limits more, the silent tenant keeps publishing; each quiet pop-up arrives in
    // a fraction of one time limit (it takes milliseconds; waiting for a silent slot takes a limit).
    const until = Date.now() + 2 * TIMEOUT_MS;
    for (let n = 1; Date.now() < until; n++) {
      publishSilent(`s${n % 12}`, `silent-more-${n}`);
      const sent = Date.now();
      suite.stack.notifier.publish(popup(quiet, 'q', `quiet-${n}`));
      await eventually(`quiet pop-up ${n} delivered`, () => quietDelivered(`quiet-${n}`));
      const took = Date.now() - sent;
      assert.ok(took < TIMEOUT_MS / 3, `quiet pop-up ${n} took ${took} ms: it waited for a silent slot`);
      await sleep(150);
    }
    assert.ok(abandoned() > 0, 'the silent receiver’s attempts did run out of time');
    assert.ok(
      (receiver.mostOpen.get('/silent') ?? 0) <= CONCURRENCY / 2,
      `at most half the deliveries went to the silent receiver at once (${receiver.mostOpen.get('/silent')})`,
    );

    // It answers again: every pop-up of the silent tenant is delivered once it is noticed.
    receiver.on('/silent', { kind: 'ok' });
    const delivered = await eventually(
      `all ${silentCalls.length} silent pop-ups delivered`,
      () => {
        const ids = new Set(
          receiver
            .at('/silent')
            .filter((r) => r.status === 200)
            .map((r) => (JSON.parse(r.body) as { data: { callId: string } }).data.callId),
        );
        return silentCalls.every((c) => ids.has(c)) ? ids : undefined;
      },
      1000,
    );
    assert.equal(delivered.size, silentCalls.length);
    assert.equal(
      (await suite.stack.deadLetters.list(silent)).items.length,
      0,
      'no pop-up ran out of attempts',
    );
  });

  it('sends a slow receiver’s events once each and in order per agent, with more agents than its share', async () => {
    const slow = await suite.stack.tenant(suite.redis.tenant('slow'), {
      webhooks: { agentDesktopUrl: receiver.url('/slow') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    receiver.on('/slow', { kind: 'slow', ms: 300 });
    const agents = 8;
    const perAgent = 3;
    for (let i = 0; i < perAgent; i++) {
      for (let a = 0; a < agents; a++) suite.stack.notifier.publish(popup(slow, `a${a}`, `slow-${a}-${i}`));
    }
    const calls = () =>
      receiver.at('/slow').map((r) => (JSON.parse(r.body) as { data: { callId: string } }).data.callId);
    await eventually(
      'every slow event received',
      () => calls().length >= agents * perAgent || undefined,
      1500,
    );
    await sleep(500);
    const got = calls();
    assert.equal(new Set(got).size, got.length, 'no event sent twice');
    assert.equal(got.length, agents * perAgent);
    for (let a = 0; a < agents; a++) {
      const mine = got.filter((c) => c.startsWith(`slow-${a}-`));
      assert.deepEqual(
        mine,
        [0, 1, 2].map((i) => `slow-${a}-${i}`),
        `agent a${a} in order`,
      );
    }
    assert.ok((receiver.mostOpen.get('/slow') ?? 0) <= CONCURRENCY / 2, 'within its share');
  });
});
