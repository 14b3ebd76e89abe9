import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { deadLetterRoutes } from '../../src/api/routes/dead-letters.js';
import { decisionRoutes } from '../../src/api/routes/decisions.js';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { CallScreener } from '../../src/call/call-screener.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionRecorder } from '../../src/notify/decision-recorder.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type WebhookDeadLetters,
  webhookDeadLetters,
} from '../../src/notify/webhook-job.js';
import { WebhookQueue } from '../../src/notify/webhook-queue.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { HitCounters } from '../../src/store/hit-counters.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';

describe.skipIf(skipWithoutRedis)('API: dead letters, decisions, rule hits', () => {
  let h: ApiHarness;
  let app: ApiApp;
  let queue: WebhookQueue;
  let deadLetters: WebhookDeadLetters;
  let recorder: DecisionRecorder;

  beforeAll(async () => {
    h = await startApi();
    await h.deps.client.ping();
    queue = new WebhookQueue(h.deps.client, DEFAULT_DELIVERY_OPTIONS);
    deadLetters = webhookDeadLetters(h.deps.client);
    recorder = new DecisionRecorder(h.deps.client, silentLogger, { node: 'n1', flushMs: 60_000 });
    app = await buildApiApp(h.deps, {
      docs: false,
      routes: [
        deadLetterRoutes({ deadLetters, queue }),
        decisionRoutes({ decisionLog: new DecisionLog(h.deps.client), hits: new HitCounters(h.deps.client) }),
      ],
    });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await h?.stop();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key?: string) =>
    app.inject({ method, url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('documents its routes in the OpenAPI document beside the others', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json() as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    for (const path of [
      '/v1/dead-letters',
      '/v1/dead-letters/{id}/redeliver',
      '/v1/decisions',
      '/v1/rule-hits',
    ]) {
      assert.ok(doc.paths[path], path);
    }
    for (const id of ['DeadLetter', 'AuditedDecision', 'RuleHits', 'Decision'])
      assert.ok(doc.components.schemas[id], id);
  });

  it('lists, shows, redelivers and dismisses dead letters of the caller’s tenant only', async () => {
    const a = await h.tenant('dl-a');
    const b = await h.tenant('dl-b');
    const job = (tenant: string, eventId: string) => ({
      tenant,
      eventId,
      type: 'agent.popup' as const,
      target: 'agentDesktop' as const,
      body: JSON.stringify({ id: eventId, type: 'agent.popup', tenant, data: { number: '1404' } }),
    });
    const failure = {
      url: 'https://desk.example.com/hook',
      attempts: 8,
      status: 503,
      error: 'receiver answered 503',
      at: 1,
    };
    const first = await deadLetters.add(job(a.id, 'ev-1'), failure);
    await deadLetters.add(job(a.id, 'ev-2'), failure);
    // Letter ids are stream ids, per tenant: added in the same millisecond, b's would share a's first
    // id and b would rightly see its own letter under it. A later millisecond keeps them apart.
    await new Promise((r) => setTimeout(r, 2));
    await deadLetters.add(job(b.id, 'ev-3'), failure);

    assert.equal((await call('GET', '/v1/dead-letters', undefined)).statusCode, 401);
    const page1 = await call('GET', '/v1/dead-letters?limit=1', a.admin);
    assert.equal(page1.statusCode, 200);
    const p1 = page1.json();
    assert.equal(p1.total, 2);
    assert.deepEqual(
      p1.items.map((d: { eventId: string }) => d.eventId),
      ['ev-2'],
    );
    assert.equal(p1.items[0].event.data.number, '1404');
    const p2 = (await call('GET', `/v1/dead-letters?limit=1&cursor=${p1.next}`, a.admin)).json();
    assert.deepEqual(
      p2.items.map((d: { eventId: string }) => d.eventId),
      ['ev-1'],
    );
    assert.equal(p2.next, undefined);

    const one = await call('GET', `/v1/dead-letters/${first}`, a.admin);
    assert.equal(one.json().lastStatus, 503);
    assert.equal((await call('GET', `/v1/dead-letters/${first}`, b.admin)).statusCode, 404);

    const agent = await h.key(a.id, { role: 'agent' });
    assert.equal((await call('GET', '/v1/dead-letters', agent)).statusCode, 403);

    const re = await call('POST', `/v1/dead-letters/${first}/redeliver`, a.admin);
    assert.equal(re.statusCode, 202);
    assert.deepEqual(re.json(), { eventId: 'ev-1', queued: true });
    assert.equal(await queue.pending(), 1);
    assert.equal((await call('GET', `/v1/dead-letters/${first}`, a.admin)).statusCode, 404);
    const second = (await call('GET', '/v1/dead-letters', a.admin)).json().items[0].id;
    assert.equal((await call('DELETE', `/v1/dead-letters/${second}`, a.admin)).statusCode, 204);
    assert.equal((await call('DELETE', `/v1/dead-letters/${second}`, a.admin)).statusCode, 404);
    assert.equal((await call('GET', '/v1/dead-letters/not-an-id', a.admin)).statusCode, 400);
  });

  it('answers GET /v1/decisions and /v1/rule-hits from what the call nodes recorded', async () => {
    const t = await h.tenant('dec');
    const now = Math.floor(Date.now() / 1000) * 1000;
    const engine = DecisionEngine.fromRules([
      { id: 1, called: '14045266123', direction: 'outbound', action: 'block', updatedAt: now },
      { id: 2, called: '_1999!', direction: 'outbound', action: 'block', updatedAt: now },
    ]);
    const screener = new CallScreener(
      new StaticDeciderSource().set(t.id, engine, { mode: 'digits' }),
      new MemoryEventSink(),
      Date.now,
      recorder,
    );
    for (let i = 0; i < 5; i++) {
      screener.screen({
        callId: `c${i}`,
        tenant: t.id,
        direction: 'outbound',
        called: i < 3 ? '+1 404 526 6123' : '17770000000',
      });
    }
    await recorder.flush();

    const all = (await call('GET', '/v1/decisions', t.admin)).json();
    assert.equal(all.items.length, 5);
    assert.equal(all.next, undefined);
    const blocked = (
      await call('GET', '/v1/decisions?number=%2B1-404-526-6123&action=block', t.admin)
    ).json();
    assert.deepEqual(
      blocked.items.map((d: { callId: string; ruleId: number }) => [d.callId, d.ruleId]),
      [
        ['c2', 1],
        ['c1', 1],
        ['c0', 1],
      ],
    );
    const since = new Date(now - 60_000).toISOString();
    assert.equal(
      (await call('GET', `/v1/decisions?since=${encodeURIComponent(since)}&limit=2`, t.admin)).json().items
        .length,
      2,
    );
    assert.equal((await call('GET', '/v1/decisions?action=maybe', t.admin)).statusCode, 400);

    const hits = (await call('GET', '/v1/rule-hits?ids=1,2', t.admin)).json();
    assert.deepEqual(
      hits.items.map((x: { ruleId: number; count: number }) => [x.ruleId, x.count]),
      [
        [1, 3],
        [2, 0],
      ],
    );
    const ranked = (await call('GET', '/v1/rule-hits?order=desc', t.admin)).json();
    assert.deepEqual(
      ranked.items.map((x: { ruleId: number }) => x.ruleId),
      [1],
    );

    await h.deps.tenants.setParams(t.id, { dataIsolation: true });
    const agent = await h.key(t.id, { role: 'agent', ous: ['sales'] });
    assert.equal((await call('GET', '/v1/decisions', agent)).statusCode, 403);
  });
});
