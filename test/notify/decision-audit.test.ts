import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { CallScreener } from '../../src/call/call-screener.js';
import type { IncomingCall } from '../../src/call/incoming-call.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionRecorder } from '../../src/notify/decision-recorder.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { HitCounters } from '../../src/store/hit-counters.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { eventually } from './webhook-receiver.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const rules: Rule[] = [
  { id: 1, called: '14045266123', direction: 'outbound', action: 'block', updatedAt: NOW - 1000 },
  { id: 2, called: '_1404!', direction: 'outbound', action: 'block', updatedAt: NOW - 1000 },
  { id: 3, called: '_14045266!', direction: 'outbound', action: 'allow', updatedAt: NOW - 1000 },
  { id: 4, calling: 'anonymous', direction: 'inbound', action: 'block', updatedAt: NOW - 1000 },
  { id: 5, called: '19990000000', direction: 'outbound', action: 'block', updatedAt: NOW - 1000 },
];

describe.skipIf(skipWithoutRedis)('decision audit and hit counters', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  const setup = async (options: { allowSampleRate?: number } = {}) => {
    const tenant = redis.tenant('audit');
    const client = redis.client();
    await client.ping();
    const source = new StaticDeciderSource().set(tenant, DecisionEngine.fromRules(rules), { mode: 'digits' });
    const recorder = new DecisionRecorder(client, silentLogger, {
      node: 'node-a',
      flushMs: 60_000,
      ...options,
    });
    let clock = NOW;
    const screener = new CallScreener(source, new MemoryEventSink(), () => clock++, recorder);
    const call = (n: number, called: string, extra: Partial<IncomingCall> = {}): IncomingCall => ({
      callId: `c-${n}`,
      tenant,
      direction: 'outbound',
      called,
      calling: '3712000000',
      task: 'task-1',
      ...extra,
    });
    return {
      tenant,
      client,
      recorder,
      screener,
      call,
      log: new DecisionLog(client),
      hits: new HitCounters(client),
    };
  };

  it('records every decision with its call, numbers, rule and node, newest first', async () => {
    const s = await setup();
    s.screener.screen(s.call(1, '14045266123'));
    s.screener.screen(s.call(2, '14045266999'));
    s.screener.screen(s.call(3, '17775550000'));
    s.screener.screen(s.call(4, '', { direction: 'inbound', called: '100', calling: 'anonymous' }));
    await s.recorder.flush();
    const page = await s.log.query(s.tenant);
    assert.deepEqual(
      page.items.map((d) => [d.callId, d.action, d.ruleId, d.basis, d.direction]),
      [
        ['c-4', 'block', 4, 'rule', 'inbound'],
        ['c-3', 'allow', null, 'default', 'outbound'],
        ['c-2', 'allow', 3, 'rule', 'outbound'],
        ['c-1', 'block', 1, 'rule', 'outbound'],
      ],
    );
    const first = page.items[3]!;
    assert.equal(first.called, '14045266123');
    assert.equal(first.calling, '3712000000');
    assert.equal(first.task, 'task-1');
    assert.equal(first.node, 'node-a');
    assert.equal(first.at, new Date(NOW).toISOString());
    assert.equal(page.next, null);
  });

  it('filters by number, action and rule, and pages on with the cursor', async () => {
    const s = await setup();
    for (let i = 0; i < 30; i++) s.screener.screen(s.call(i, i % 2 === 0 ? '14045266123' : '14041111111'));
    await s.recorder.flush();
    const blocked = await s.log.query(s.tenant, { number: '14045266123' });
    assert.equal(blocked.items.length, 15);
    assert.ok(blocked.items.every((d) => d.ruleId === 1));
    const byRule = await s.log.query(s.tenant, { ruleId: 2, action: 'block' });
    assert.equal(byRule.items.length, 15);
    const seen = new Set<string>();
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const p = await s.log.query(s.tenant, { limit: 7, before });
      for (const d of p.items) seen.add(d.callId);
      if (!p.next) break;
      before = p.next;
    }
    assert.equal(seen.size, 30);
    const windowed = await s.log.query(s.tenant, { since: NOW + 10, until: NOW + 19 });
    assert.equal(windowed.items.length, 10);
  });

  it('keeps only the configured share of allows but every block', async () => {
    const s = await setup({ allowSampleRate: 0.1 });
    for (let i = 0; i < 200; i++) s.screener.screen(s.call(i, i % 2 === 0 ? '14045266123' : '17775550000'));
    await s.recorder.flush();
    const blocks = await s.log.query(s.tenant, { action: 'block', limit: 1000 });
    const allows = await s.log.query(s.tenant, { action: 'allow', limit: 1000 });
    assert.equal(blocks.items.length, 100);
    assert.equal(allows.items.length, 10);
  });

  it('counts hits per rule across flushes and nodes, with the last hit time, and ranks them', async () => {
    const s = await setup();
    const other = new DecisionRecorder(s.client, silentLogger, { node: 'node-b', flushMs: 60_000 });
    const otherScreener = new CallScreener(
      new StaticDeciderSource().set(s.tenant, DecisionEngine.fromRules(rules), { mode: 'digits' }),
      new MemoryEventSink(),
      () => NOW + 5000,
      other,
    );
    for (let i = 0; i < 6; i++) s.screener.screen(s.call(i, '14045266123'));
    for (let i = 0; i < 3; i++) s.screener.screen(s.call(i, '14041111111'));
    await s.recorder.flush();
    s.screener.screen(s.call(9, '14045266123'));
    otherScreener.screen(s.call(10, '14045266123'));
    await Promise.all([s.recorder.flush(), other.flush()]);

    const hits = await s.hits.readHits(s.tenant, [1, 2, 5]);
    assert.deepEqual(hits, [
      { ruleId: 1, count: 8, lastHitAt: new Date(NOW + 5000).toISOString() },
      { ruleId: 2, count: 3, lastHitAt: new Date(NOW + 8).toISOString() },
      { ruleId: 5, count: 0, lastHitAt: null },
    ]);
    assert.deepEqual(
      (await s.hits.ranked(s.tenant)).map((h) => [h.ruleId, h.count]),
      [
        [1, 8],
        [2, 3],
      ],
    );
    assert.deepEqual(
      (await s.hits.ranked(s.tenant, { order: 'asc', limit: 1 })).map((h) => h.ruleId),
      [2],
    );
    await s.hits.forget(s.tenant, [2]);
    assert.equal(await s.hits.hitRules(s.tenant), 1);
  });

  it('writes a full batch without waiting for the flush period', async () => {
    const s = await setup();
    for (let i = 0; i < 2500; i++) s.screener.screen(s.call(i, '14045266123'));
    const page = await eventually('two batches written', async () => {
      const p = await s.log.query(s.tenant, { limit: 1000 });
      return p.items.length === 1000 && s.recorder.bufferedAudit < 1000 ? p : undefined;
    });
    assert.equal(page.items.length, 1000);
    assert.ok(s.recorder.written >= 2000, `written ${s.recorder.written}`);
  });

  it('records the failure policy when no index is loaded, and a throwing observer never breaks a call', async () => {
    const s = await setup();
    const screener = new CallScreener(
      new StaticDeciderSource(),
      new MemoryEventSink(),
      () => NOW,
      s.recorder,
    );
    const r = screener.screen(s.call(1, '14045266123'));
    assert.equal(r.plan.result, 'block');
    await s.recorder.flush();
    const [d] = (await s.log.query(s.tenant)).items;
    assert.equal(d?.basis, 'failure-policy');
    assert.equal(d?.action, 'block');

    const broken = new CallScreener(new StaticDeciderSource(), new MemoryEventSink(), () => NOW, {
      observe() {
        throw new Error('observer bug');
      },
    });
    assert.equal(broken.screen(s.call(2, '1')).plan.result, 'block');
    // and the three-argument constructor the PBX apps use still works
    assert.equal(
      new CallScreener(new StaticDeciderSource(), new MemoryEventSink()).screen(s.call(3, '1')).decision,
      null,
    );
  });
});
