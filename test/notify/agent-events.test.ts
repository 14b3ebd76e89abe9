import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { agentEventRoutes } from '../../src/api/routes/agent-events.js';
import { silentLogger } from '../../src/log.js';
import { metricsRegistry } from '../../src/metrics.js';
import { AgentEventHub } from '../../src/notify/agent-event-hub.js';
import type { NotifyInput } from '../../src/notify/notify-event.js';
import { EventStreamReader } from '../../src/store/event-stream-reader.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { memoryLogger } from '../support/memory-logger.js';
import { skipWithoutLocalRedis, skipWithoutRedis } from '../support/redis-server.js';
import { notifyStack } from './notify-stack.js';
import { openSse, type SseConnection, type SseFrame } from './sse-client.js';

const popup = (tenant: string, agent: string, n: number): NotifyInput =>
  ({
    type: 'agent.popup',
    tenant,
    data: {
      callId: `call-${n}`,
      direction: 'outbound',
      task: 'campaign-7',
      agent,
      number: `1800555${String(n).padStart(4, '0')}`,
      called: `1800555${String(n).padStart(4, '0')}`,
      calling: '201',
      promptContent: 'Do not call',
      jumpAddress: 'https://crm.example/contacts/1',
      ruleId: 2,
      at: new Date().toISOString(),
    },
  }) as unknown as NotifyInput;
const wrapUp = (tenant: string, agent: string, n: number): NotifyInput => ({
  type: 'call.wrapped_up',
  tenant,
  data: {
    callId: `wrap-${n}`,
    direction: 'outbound',
    agent,
    number: '14045266123',
    called: '14045266123',
    calling: '201',
    businessResult: 'DNC',
    ruleId: 1,
    at: new Date().toISOString(),
  },
});
const openStreamsMetric = async () =>
  (await metricsRegistry.getSingleMetric('callguard_agent_streams_open')!.get()).values[0]?.value ?? 0;
const isEvent = (f: SseFrame) => f.id !== undefined && f.data !== undefined;

/**
 * The agents' push channel over real HTTP and a real Redis. Events are published by a Notifier on
 * a Redis connection of its own (as a call node in another process does); the API node reads them
 * from the tenant's event stream.
 */
describe.skipIf(skipWithoutRedis)('agent push channel: GET /v1/agents/{agentId}/events', () => {
  let h: ApiHarness;
  let app: ApiApp;
  let hub: AgentEventHub;
  let base: string;
  let producer: Awaited<ReturnType<typeof notifyStack>>;
  let tenant: string;
  let admin: string;
  let alice: string;
  const open: SseConnection[] = [];

  const sse = async (path: string, key?: string, headers: Record<string, string> = {}) => {
    const c = await openSse(`${base}${path}`, {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startApi();
    hub = new AgentEventHub({
      reader: new EventStreamReader(h.deps.client),
      connect: () => new Redis(h.redis.url),
      log: silentLogger,
      options: { heartbeatMs: 200, blockMs: 500, idleStopMs: 100 },
    });
    app = await buildApiApp(h.deps, { docs: false, routes: [agentEventRoutes({ hub, keyRecheckMs: 200 })] });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    producer = await notifyStack(h.redis, { worker: false });
    ({ id: tenant, admin } = await h.tenant('sse'));
    alice = await h.key(tenant, { role: 'agent', agentId: 'alice' });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await app?.close();
    await producer?.close();
    await h?.stop();
  });

  it("sends the agent's pop-ups and wrap-ups, each once, id = event id and data = the webhook body", async () => {
    const stream = await sse('/v1/agents/alice/events', alice);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    const ids = [
      producer.notifier.publish(popup(tenant, 'alice', 1)),
      producer.notifier.publish(popup(tenant, 'bob', 2)),
      producer.notifier.publish(wrapUp(tenant, 'alice', 3)),
      producer.notifier.publish({
        type: 'import.finished',
        tenant,
        data: { jobId: 'j1', state: 'completed' },
      }),
    ];
    const got = await stream.waitFor(2, isEvent);
    await producer.notifier.flush();
    const bodies = new Map(
      ((await h.deps.client.xrange(`cg:{${tenant}}:events`, '-', '+')) as Array<[string, string[]]>).map(
        ([, f]) => [f[f.indexOf('id') + 1]!, f[f.indexOf('body') + 1]!],
      ),
    );
    assert.deepEqual(
      got.map((f) => f.id),
      [ids[0], ids[2]],
    );
    for (const f of got) assert.equal(f.data, bodies.get(f.id!), 'the same bytes as the webhook body');
    const first = JSON.parse(got[0]!.data!) as { type: string; data: { promptContent: string } };
    assert.equal(first.type, 'agent.popup');
    assert.equal(first.data.promptContent, 'Do not call');
    // nothing else arrives for alice (bob's pop-up and the import are not hers)
    producer.notifier.publish(popup(tenant, 'alice', 4));
    const more = await stream.waitFor(3, isEvent);
    assert.equal(more.length, 3);
  });

  it('tells a key its agent: GET /v1/agents/me', async () => {
    const me = await fetch(`${base}/v1/agents/me`, { headers: { authorization: `Bearer ${alice}` } });
    assert.deepEqual(await me.json(), { tenant, role: 'agent', agentId: 'alice' });
    const adminMe = await fetch(`${base}/v1/agents/me`, { headers: { authorization: `Bearer ${admin}` } });
    assert.deepEqual(await adminMe.json(), { tenant, role: 'tenant_admin' });
  });

  it('lets an agent key watch only its own agent; an admin key any agent; no key is 401', async () => {
    const other = await sse('/v1/agents/bob/events', alice);
    assert.equal(other.status, 403);
    await other.ended;
    assert.match(other.frames.at(-1)?.data ?? '', /belongs to agent \\?"alice\\?"/);
    const noAgent = await h.key(tenant, { role: 'agent' });
    const none = await sse('/v1/agents/alice/events', noAgent);
    assert.equal(none.status, 403);
    await none.ended;
    assert.match(none.frames.at(-1)?.data ?? '', /agentId/);
    assert.equal((await sse('/v1/agents/alice/events')).status, 401);
    const foreign = await h.tenant('sse-other');
    const bobOfOther = await h.key(foreign.id, { role: 'agent', agentId: 'bob' });
    const adminStream = await sse('/v1/agents/bob/events', admin);
    assert.equal(adminStream.status, 200);
    // another tenant's bob sees nothing of this tenant
    const foreignStream = await sse('/v1/agents/bob/events', bobOfOther);
    assert.equal(foreignStream.status, 200);
    const id = producer.notifier.publish(popup(tenant, 'bob', 5));
    const [f] = await adminStream.waitFor(1, isEvent);
    assert.equal(f!.id, id);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(foreignStream.frames.filter(isEvent).length, 0);
  });

  it('takes the key as ?key= or in the callguard_key cookie (EventSource cannot send headers)', async () => {
    const byQuery = await sse(`/v1/agents/alice/events?key=${encodeURIComponent(alice)}`);
    const byCookie = await sse('/v1/agents/alice/events', undefined, {
      cookie: `x=1; callguard_key=${alice}`,
    });
    assert.equal(byQuery.status, 200);
    assert.equal(byCookie.status, 200);
    // only this route: elsewhere the query key is refused like any unknown parameter
    const res = await h.call('GET', `/v1/params?key=${encodeURIComponent(alice)}`, undefined);
    assert.ok(res.statusCode === 400 || res.statusCode === 401, String(res.statusCode));
  });

  it('resumes after Last-Event-ID without a gap, in order, and says so when the id is gone', async () => {
    const first = await sse('/v1/agents/carol/events', admin);
    const before = [1, 2].map((n) => producer.notifier.publish(popup(tenant, 'carol', n)));
    await first.waitFor(2, isEvent);
    first.close();
    const missed = [3, 4, 5].map((n) => producer.notifier.publish(popup(tenant, 'carol', n)));
    await producer.notifier.flush();
    const again = await sse('/v1/agents/carol/events', admin, { 'last-event-id': before[1]! });
    const later = producer.notifier.publish(popup(tenant, 'carol', 6));
    const got = await again.waitFor(4, isEvent);
    assert.deepEqual(
      got.map((f) => f.id),
      [...missed, later],
    );
    const gone = await sse('/v1/agents/carol/events', admin, {
      'last-event-id': '00000000-0000-4000-8000-000000000000',
    });
    const [reset] = await gone.waitFor(1, (f) => f.event === 'reset');
    assert.match(reset!.data!, /not in the event stream/);
  });

  it('keeps idle streams open with a comment heartbeat', async () => {
    const idle = await sse('/v1/agents/dave/events', admin);
    const beats = await idle.waitFor(2, (f) => f.comment?.includes('heartbeat') === true);
    assert.equal(beats.length, 2);
  });

  it('reads each tenant with one reader however many streams are open', async () => {
    const streams = await Promise.all(
      Array.from({ length: 30 }, (_, i) => sse(`/v1/agents/agent-${i}/events`, admin)),
    );
    assert.ok(streams.every((s) => s.status === 200));
    assert.ok(hub.readers <= 2, `readers: ${hub.readers}`);
    assert.ok((await openStreamsMetric()) >= 30, 'callguard_agent_streams_open counts them');
    const id = producer.notifier.publish(popup(tenant, 'agent-29', 29));
    const [f] = await streams[29]!.waitFor(1, isEvent);
    assert.equal(f!.id, id);
  });

  it('ends an open stream once its key is revoked: the agent stops seeing calls then, not when it hangs up', async () => {
    const rex = await h.key(tenant, { role: 'agent', agentId: 'rex' });
    const s = await sse('/v1/agents/rex/events', rex);
    assert.equal(s.status, 200);
    const id = (await h.deps.keys.list(tenant)).find((k) => k.agentId === 'rex')!.id;
    assert.equal(await h.deps.keys.revoke(tenant, id), true);
    await Promise.race([
      s.ended,
      new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), 5_000)),
    ]);
    const last = s.frames.filter((f) => f.event !== undefined).at(-1);
    assert.equal(last?.event, 'revoked');
    assert.match(last?.data ?? '', /revoked/);
  });

  it('ends every stream when the server shuts down', async () => {
    const s = await sse('/v1/agents/erin/events', admin);
    const started = Date.now();
    await app.close();
    await s.ended;
    assert.ok(Date.now() - started < 5_000, 'close did not wait for the streams');
    assert.equal(hub.readers, 0);
    assert.equal(await openStreamsMetric(), 0);
  });
});

describe.skipIf(skipWithoutRedis)('agent push channel on a connection of its own', () => {
  it("reads a tenant on a connection just made (no offline queue, as the API's), without a false Redis failure", async () => {
    const h = await startApi();
    const logs = memoryLogger();
    // the API's connections have no offline queue: a command before the connection is ready fails
    const hub = new AgentEventHub({
      reader: new EventStreamReader(h.deps.client),
      connect: () => new Redis(h.redis.url, { enableOfflineQueue: false }),
      log: logs.logger,
      options: { blockMs: 200 },
    });
    const app = await buildApiApp(h.deps, { docs: false, routes: [agentEventRoutes({ hub })] });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const { admin } = await h.tenant('fresh-tail');
    const stream = await openSse(`${base}/v1/agents/ann/events`, { authorization: `Bearer ${admin}` });
    try {
      assert.equal(stream.status, 200);
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(
        logs.records.filter((r) => r.level >= 40).map((r) => r.msg),
        [],
      );
    } finally {
      stream.close();
      await app.close();
      await h.stop();
    }
  });
});

describe.skipIf(skipWithoutLocalRedis)('agent push channel through a Redis restart', () => {
  it('keeps the stream open while Redis is away and sends what was written once it is back', async () => {
    const h = await startApi({ private: true });
    const hub = new AgentEventHub({
      reader: new EventStreamReader(h.deps.client),
      connect: () => {
        const c = new Redis(h.redis.url, { retryStrategy: () => 50 });
        c.on('error', () => undefined);
        return c;
      },
      log: silentLogger,
      options: { blockMs: 300 },
    });
    const app = await buildApiApp(h.deps, { docs: false, routes: [agentEventRoutes({ hub })] });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const producer = await notifyStack(h.redis, { worker: false });
    let stream: SseConnection | undefined;
    try {
      const { id: tenant, admin } = await h.tenant('sse-outage');
      stream = await openSse(`${base}/v1/agents/zoe/events`, { authorization: `Bearer ${admin}` });
      assert.equal(stream.status, 200);
      const first = producer.notifier.publish(popup(tenant, 'zoe', 1));
      await stream.waitFor(1, isEvent);
      await h.redis.kill9();
      // published while Redis is down: the notifier keeps it, the API node keeps the stream open
      const during = producer.notifier.publish(popup(tenant, 'zoe', 2));
      await new Promise((r) => setTimeout(r, 500));
      await h.redis.restart();
      const got = await stream.waitFor(2, isEvent, 20_000);
      assert.deepEqual(
        got.map((f) => f.id),
        [first, during],
      );
    } finally {
      stream?.close();
      await app.close();
      await producer.close();
      await h.stop();
    }
  });
});
