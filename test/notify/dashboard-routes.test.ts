import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { decisionStreamRoutes } from '../../src/api/routes/decision-stream.js';
import { statsRoutes } from '../../src/api/routes/stats-routes.js';
import { CallScreener } from '../../src/call/call-screener.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { loadConfig } from '../../src/config.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionFeed } from '../../src/notify/decision-feed.js';
import { NotifyService } from '../../src/notify/notify-service.js';
import { CallStats } from '../../src/store/call-stats.js';
import { readNodeReports } from '../../src/store/node-reports.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { SECRET } from './notify-stack.js';
import { openSse } from './sse-client.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

/**
 * The dashboard's API: calls screened by a node (NotifyService as `callguard serve` wires it) show up
 * in GET /v1/stats/calls and /v1/stats/health, and GET /v1/decisions/stream follows them live.
 */
describe.skipIf(skipWithoutRedis)('API: dashboard figures and the live decision stream', () => {
  let h: ApiHarness;
  let app: ApiApp;
  let service: NotifyService;
  let url: string;
  const receiver = new WebhookReceiver(SECRET);

  beforeAll(async () => {
    h = await startApi();
    await h.deps.client.ping();
    await receiver.start();
    receiver.on('/campaign', { kind: 'always', status: 503 });
    const config = loadConfig({
      REDIS_URL: h.redis.url,
      NODE_NAME: 'pbx-7',
      CALLGUARD_WEBHOOK_BACKOFF_MS: '20',
      CALLGUARD_WEBHOOK_ATTEMPTS: '2',
    });
    service = new NotifyService({
      config,
      client: h.deps.client,
      log: silentLogger,
      worker: true,
      syncStatus: () => [],
    });
    const client = h.deps.client;
    app = await buildApiApp(h.deps, {
      docs: false,
      routes: [
        statsRoutes({
          stats: new CallStats(client),
          hits: service.hits,
          deadLetters: service.deadLetters,
          retrying: (t) => service.queue.retrying(t),
          nodes: (t) => readNodeReports(client, t),
        }),
        decisionStreamRoutes({
          feed: new DecisionFeed({
            client,
            connect: () => new Redis(h.redis.url),
            log: silentLogger,
            options: { blockMs: 200 },
          }),
        }),
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
    await receiver.stop();
    await h?.stop();
  });

  it('documents its routes in the OpenAPI document beside the others', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const path of ['/v1/stats/calls', '/v1/stats/health', '/v1/decisions/stream'])
      assert.ok(doc.paths[path], path);
    for (const id of ['CallStats', 'DeliveryHealth']) assert.ok(doc.components.schemas[id], id);
    const filters = doc.paths['/v1/decisions/stream']!.get!.parameters!.map((p) => p.name);
    for (const name of ['direction', 'action', 'task', 'agent', 'number'])
      assert.ok(filters.includes(name), name);
  });

  /** A tenant with a group, two types and three rules made through the API, and a screener over them. */
  async function scene(label: string) {
    const t = await h.tenant(label);
    await h.deps.tenants.setParams(t.id, {
      webhooks: { agentDesktopUrl: receiver.url('/desk'), campaignEngineUrl: receiver.url('/campaign') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    const put = async (path: string, body: unknown) => {
      const res = await h.call('PUT', path, t.admin, body);
      assert.ok(res.statusCode < 300, res.body);
    };
    await put('/v1/groups/dnc', { name: 'Do not call' });
    await put('/v1/types/popup', {
      name: 'Pop',
      operation: 'pop_up',
      promptContent: 'DNC',
      jumpAddress: 'https://crm/1',
    });
    await put('/v1/types/wrap', { name: 'Wrap', operation: 'auto_wrap_up', businessResult: 'DNC' });
    const rule = async (body: Record<string, unknown>) => {
      const res = await h.call('POST', '/v1/rules', t.admin, {
        direction: 'outbound',
        action: 'block',
        ...body,
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { rule: { id: number } }).rule;
    };
    const popup = await rule({ called: '14045266123', typeId: 'popup', groupId: 'dnc' });
    const wrap = await rule({ called: '_1999!', typeId: 'wrap' });
    const gone = await rule({ called: '15550001111' });
    const types = (await h.call('GET', '/v1/types', t.admin)).json().items;
    const rules = await h.deps.rules.getMany(t.id, [popup.id, wrap.id, gone.id]);
    const engine = DecisionEngine.fromRules(rules, { types, bindings: [['camp', ['dnc']]] });
    const screener = new CallScreener(
      new StaticDeciderSource().set(t.id, engine, { mode: 'digits' }),
      service.notifier,
      Date.now,
      service.recorder,
    );
    let n = 0;
    const place = (called: string, agent = 'agent-1') =>
      screener.screen({
        callId: `${label}-${n++}`,
        tenant: t.id,
        direction: 'outbound',
        called,
        agent,
        task: 'camp',
      });
    return { t, popup, wrap, gone, place };
  }

  it('counts every call per minute and hour, blocks by type and group, and ranks the rules', async () => {
    const { t, popup, wrap, gone, place } = await scene('dash');
    for (let i = 0; i < 3; i++) place('14045266123');
    for (let i = 0; i < 2; i++) place('19990001234');
    place('15550001111');
    for (let i = 0; i < 4; i++) place('17770000000');
    await service.recorder.flush();
    // A deleted rule's blocks still count, apart.
    assert.equal((await h.call('DELETE', `/v1/rules/${gone.id}`, t.admin)).statusCode, 204);

    const res = await app.inject({ method: 'GET', url: '/v1/stats/calls' });
    assert.equal(res.statusCode, 401);
    const stats = (
      await app.inject({
        method: 'GET',
        url: '/v1/stats/calls',
        headers: { authorization: `Bearer ${t.admin}` },
      })
    ).json();
    assert.equal(stats.lastHour.buckets.length, 60);
    assert.equal(stats.lastWeek.buckets.length, 168);
    assert.equal(stats.lastHour.screened, 10);
    assert.equal(stats.lastHour.blocked, 6);
    assert.equal(stats.lastWeek.screened, 10);
    assert.equal(stats.lastWeek.blocked, 6);
    assert.equal(stats.lastHour.buckets.at(-1).screened + stats.lastHour.buckets.at(-2).screened, 10);
    assert.deepEqual(stats.blocksByType, [
      { typeId: 'popup', blocked: 3 },
      { typeId: 'wrap', blocked: 2 },
    ]);
    assert.deepEqual(stats.blocksByGroup, [
      { groupId: 'dnc', blocked: 3 },
      { groupId: null, blocked: 2 },
    ]);
    assert.equal(stats.blockedByDeletedRules, 1);
    assert.equal(stats.blockedWithoutRule, 0);
    assert.deepEqual(
      stats.topRules.map((r: { ruleId: number; hits: number; rule: unknown }) => [
        r.ruleId,
        r.hits,
        r.rule !== null,
      ]),
      [
        [popup.id, 3, true],
        [wrap.id, 2, true],
        [gone.id, 1, false],
      ],
    );
    const bad = await app.inject({
      method: 'GET',
      url: '/v1/stats/calls?top=0',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /top/);

    await h.deps.tenants.setParams(t.id, { dataIsolation: true });
    const agent = await h.key(t.id, { role: 'agent', ous: ['sales'] });
    const refused = await app.inject({
      method: 'GET',
      url: '/v1/stats/calls',
      headers: { authorization: `Bearer ${agent}` },
    });
    assert.equal(refused.statusCode, 403);
  });

  it('reports pop-ups delivered, wrap-ups dead-lettered after their attempts, and the nodes’ sync', async () => {
    const { t, place } = await scene('health');
    place('14045266123');
    place('19990001234');
    await service.recorder.flush();
    const get = async () =>
      (
        await app.inject({
          method: 'GET',
          url: '/v1/stats/health',
          headers: { authorization: `Bearer ${t.admin}` },
        })
      ).json();
    const health = await eventually('a delivery and a dead letter counted', async () => {
      const h1 = await get();
      const [popup, wrap] = h1.deliveries;
      return popup.delivered === 1 && wrap.deadLettered === 1 ? h1 : undefined;
    });
    assert.deepEqual(health.deliveries, [
      { type: 'agent.popup', delivered: 1, deadLettered: 0, retrying: 0 },
      { type: 'call.wrapped_up', delivered: 0, deadLettered: 1, retrying: 0 },
    ]);
    assert.equal(health.deadLetters, 1);
    assert.deepEqual(health.nodes, []);

    const now = Date.now();
    const { NodeReporter } = await import('../../src/store/node-reports.js');
    const status = (connected: boolean, stalenessSeconds: number) => [
      {
        tenant: t.id,
        loaded: true,
        version: '5-0',
        rules: 3,
        overlay: 0,
        connected,
        stalenessSeconds,
        reloads: 0,
      },
    ];
    await new NodeReporter(h.deps.client, 'pbx-a', () => status(true, 0), silentLogger).report(now - 60_000);
    await new NodeReporter(h.deps.client, 'pbx-b', () => status(true, 0), silentLogger).report(now);
    const nodes = (await get()).nodes;
    assert.deepEqual(
      nodes.map((n: { node: string; stalenessSeconds: number; rules: number }) => [
        n.node,
        n.stalenessSeconds,
        n.rules,
      ]),
      // pbx-a fell silent a minute ago: 50 s more than one report period.
      [
        ['pbx-a', 50],
        ['pbx-b', 0],
      ].map(([n, s]) => [n, s, 3]),
    );
  });

  it('answers a HEAD of the stream at once (no stream to open), not after the client gives up', async () => {
    const { t } = await scene('head');
    const res = await fetch(`${url}/v1/decisions/stream`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${t.admin}` },
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 404);
  });

  it('streams the decisions as they are recorded, filtered, and resumes after Last-Event-ID', async () => {
    const { t, place } = await scene('live');
    const auth = { authorization: `Bearer ${t.admin}` };
    const all = await openSse(`${url}/v1/decisions/stream`, auth);
    const blocks = await openSse(`${url}/v1/decisions/stream?action=block&agent=agent-2`, auth);
    assert.equal(all.status, 200);
    assert.match(String(all.headers['content-type']), /text\/event-stream/);
    place('14045266123', 'agent-1');
    place('19990001234', 'agent-2');
    place('17770000000', 'agent-2');
    await service.recorder.flush();
    const frames = await all.waitFor(3, (f) => f.data !== undefined, 10_000);
    const decisions = frames.map((f) => JSON.parse(f.data!));
    assert.deepEqual(
      decisions.map((d: { called: string; action: string; agent: string }) => [d.called, d.action, d.agent]),
      [
        ['14045266123', 'block', 'agent-1'],
        ['19990001234', 'block', 'agent-2'],
        ['17770000000', 'allow', 'agent-2'],
      ],
    );
    const [only] = await blocks.waitFor(1, (f) => f.data !== undefined, 10_000);
    assert.equal(JSON.parse(only!.data!).called, '19990001234');
    blocks.close();

    // A console that lost its connection asks for what came after the last decision it saw.
    const resumed = await openSse(`${url}/v1/decisions/stream`, { ...auth, 'last-event-id': frames[0]!.id! });
    const again = await resumed.waitFor(2, (f) => f.data !== undefined, 10_000);
    assert.deepEqual(
      again.map((f) => f.id),
      [frames[1]!.id, frames[2]!.id],
    );
    resumed.close();
    all.close();

    const bad = await openSse(`${url}/v1/decisions/stream?action=maybe`, auth);
    assert.equal(bad.status, 400);
  });
});
