import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { NotifyInput } from '../../src/notify/notify-event.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { popup, SECRET } from './notify-stack.js';
import { eventually, type Received } from './webhook-receiver.js';
import { webhookSuite } from './webhook-suite.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const callIdOf = (r: Received): string => (JSON.parse(r.body) as { data: { callId: string } }).data.callId;

/** The call ids in the order the receiver accepted them (first 2xx of each event). */
function accepted(received: readonly Received[], path: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of received) {
    if (r.path !== path || r.status !== 200) continue;
    const id = callIdOf(r);
    if (!seen.has(id)) out.push(id);
    seen.add(id);
  }
  return out;
}

const ofAgent = (ids: readonly string[], agent: string) => ids.filter((id) => id.startsWith(`${agent}-`));

/**
 * Webhooks of one agent reach a receiver in the order they happened, also after the receiver was
 * away: while an agent's oldest event fails, its later events wait behind it (they are not sent);
 * other agents' events go on. Short backoffs keep the test within seconds.
 */
describe.skipIf(skipWithoutRedis)('webhooks of one agent arrive in order', () => {
  const suite = webhookSuite({
    // Attempts enough to outlast the outages below; a long backoff cap, as in production, so
    // that only the receiver probe can bring the backlog in within seconds.
    delivery: { attempts: 30, backoffMs: 100, maxBackoffMs: 5_000, probeMaxMs: 200, concurrency: 16 },
  });
  const { receiver } = suite;
  const params = (path: string) => ({
    webhooks: { agentDesktopUrl: receiver.url(path) },
    webhookSecret: SECRET,
    allowPrivateWebhookTargets: true,
  });

  it('delivers everything of an outage in order per agent soon after the receiver is back', async () => {
    const tenant = await suite.stack.tenant(suite.redis.tenant('outage'), params('/outage'));
    const agents = ['a0', 'a1', 'a2'];
    const published: string[] = [];
    receiver.down = true;
    for (let i = 0; i < 8; i++) {
      for (const agent of agents) {
        const callId = `${agent}-${i}`;
        suite.stack.notifier.publish(popup(tenant, agent, callId));
        published.push(callId);
      }
      await sleep(150);
    }
    await sleep(1500);
    receiver.down = false;
    const got = await eventually(
      'every event of the outage accepted',
      () => {
        const ids = accepted(receiver.received, '/outage');
        return ids.length === published.length ? ids : undefined;
      },
      400,
    );
    for (const agent of agents) {
      assert.deepEqual(ofAgent(got, agent), ofAgent(published, agent), `events of ${agent} out of order`);
    }
  });

  it('keeps each agent’s order through a burst larger than the worker takes at once', async () => {
    const tenant = await suite.stack.tenant(suite.redis.tenant('burst'), params('/burst'));
    const published: string[] = [];
    for (let i = 0; i < 60; i++) {
      for (const agent of ['b0', 'b1']) {
        suite.stack.notifier.publish(popup(tenant, agent, `${agent}-${i}`));
        published.push(`${agent}-${i}`);
      }
    }
    const got = await eventually('the burst delivered', () => {
      const ids = accepted(receiver.received, '/burst');
      return ids.length === published.length ? ids : undefined;
    });
    for (const agent of ['b0', 'b1']) assert.deepEqual(ofAgent(got, agent), ofAgent(published, agent));
  });

  it('holds an agent’s later events behind its failing oldest one while other agents’ go on', async () => {
    const tenant = await suite.stack.tenant(suite.redis.tenant('hol'), params('/hol'));
    let refusing = true;
    receiver.on('/hol', { kind: 'refuseIf', refuse: (body) => refusing && body.includes('"agent":"slow"') });
    for (let i = 0; i < 4; i++) {
      suite.stack.notifier.publish(popup(tenant, 'slow', `slow-${i}`));
      suite.stack.notifier.publish(popup(tenant, 'fast', `fast-${i}`));
      await sleep(20);
    }
    await eventually('the other agent’s events delivered', () =>
      ofAgent(accepted(receiver.received, '/hol'), 'fast').length === 4 ? true : undefined,
    );
    // let the failing head be retried a few times
    await sleep(600);
    const tried = new Set(
      receiver
        .at('/hol')
        .map(callIdOf)
        .filter((id) => id.startsWith('slow-')),
    );
    assert.deepEqual([...tried], ['slow-0'], 'only the oldest event of the agent was sent while it failed');
    refusing = false;
    const got = await eventually('the held events delivered', () => {
      const ids = ofAgent(accepted(receiver.received, '/hol'), 'slow');
      return ids.length === 4 ? ids : undefined;
    });
    assert.deepEqual(got, ['slow-0', 'slow-1', 'slow-2', 'slow-3']);
  });

  it('does not hold events without an agent behind one another (they have no order to keep)', async () => {
    const tenant = await suite.stack.tenant(suite.redis.tenant('solo'), params('/solo'));
    let refusing = true;
    receiver.on('/solo', {
      kind: 'refuseIf',
      refuse: (body) => refusing && body.includes('"callId":"solo-0"'),
    });
    for (let i = 0; i < 4; i++) {
      const event = popup(tenant, '', `solo-${i}`) as unknown as { data: Record<string, unknown> };
      delete event.data.agent;
      suite.stack.notifier.publish(event as unknown as NotifyInput);
    }
    const others = await eventually('the events after the failing one delivered', () => {
      const ids = accepted(receiver.received, '/solo');
      return ids.length === 3 ? ids : undefined;
    });
    assert.deepEqual([...others].sort(), ['solo-1', 'solo-2', 'solo-3']);
    refusing = false;
    await eventually('the failing one delivered once the receiver takes it', () =>
      accepted(receiver.received, '/solo').includes('solo-0') ? true : undefined,
    );
  });
});

describe.skipIf(skipWithoutRedis)(
  'an event that uses up its attempts does not hold its agent’s queue',
  () => {
    const suite = webhookSuite({ delivery: { attempts: 3, backoffMs: 20, maxBackoffMs: 100 } });
    const { receiver } = suite;

    it('dead-letters the head, then sends the events behind it in order', async () => {
      const tenant = await suite.stack.tenant(suite.redis.tenant('dead'), {
        webhooks: { agentDesktopUrl: receiver.url('/dead') },
        webhookSecret: SECRET,
        allowPrivateWebhookTargets: true,
      });
      receiver.on('/dead', { kind: 'refuseIf', refuse: (body) => body.includes('"callId":"x-0"') });
      for (let i = 0; i < 4; i++) suite.stack.notifier.publish(popup(tenant, 'x', `x-${i}`));
      const got = await eventually('the events behind the dead one delivered', () => {
        const ids = accepted(receiver.received, '/dead');
        return ids.length === 3 ? ids : undefined;
      });
      assert.deepEqual(got, ['x-1', 'x-2', 'x-3']);
      const attempts = receiver.at('/dead').filter((r) => callIdOf(r) === 'x-0');
      assert.equal(attempts.length, 3, 'the head was tried as often as the attempts allow');
      const firstOfRest = receiver.received.findIndex((r) => r.path === '/dead' && callIdOf(r) !== 'x-0');
      const lastOfHead = receiver.received
        .map((r) => r.path === '/dead' && callIdOf(r) === 'x-0')
        .lastIndexOf(true);
      assert.ok(lastOfHead < firstOfRest, 'nothing behind the head was sent before it was given up');
      const dead = await suite.stack.deadLetters.list(tenant);
      assert.deepEqual(
        dead.items.map((d) => (JSON.parse(d.body) as { data: { callId: string } }).data.callId),
        ['x-0'],
      );
    });
  },
);
