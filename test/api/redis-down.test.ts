import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ApiApp, type ApiDeps, apiDepsOver } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import { connectedWithin, failFastClient } from '../../src/store/redis-client.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { eventually } from '../notify/webhook-receiver.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { type ApiHarness, SYSTEM_KEY, startApi } from './api-harness.js';

describe.skipIf(skipWithoutLocalRedis)('the API while Redis is down', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi({ private: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('keeps deciding from memory, answers 503 where the store is needed, and recovers', async () => {
    const t = await h.tenant('down');
    const created = await h.call('POST', '/v1/rules', t.admin, { called: '_1404!', remarks: 'kept' });
    assert.equal(created.statusCode, 201);
    // Warm the key cache and the node's engine.
    const before = await h.call('POST', '/v1/check', t.admin, {
      called: '14045551234',
      direction: 'inbound',
    });
    assert.equal(before.json().action, 'block');

    await h.redis.kill9();
    const check = await h.call('POST', '/v1/check', t.admin, { called: '14045559999', direction: 'inbound' });
    assert.equal(check.statusCode, 200, check.body);
    assert.equal(check.json().action, 'block');
    assert.equal(check.json().rule.id, created.json().rule.id);
    const screen = await h.call('POST', '/v1/screen', t.admin, { numbers: ['14045550000', '15550000000'] });
    assert.equal(screen.json().blocked, 1);
    // Past the key cache's lifetime, the key verified before still works.
    const deps = h.deps as { now: () => number };
    const realNow = deps.now;
    deps.now = () => realNow() + 60_000;
    try {
      const again = await h.call('POST', '/v1/check', t.admin, {
        called: '14045550001',
        direction: 'inbound',
      });
      assert.equal(again.statusCode, 200, again.body);
    } finally {
      deps.now = realNow;
    }
    const list = await h.call('GET', '/v1/rules', t.admin);
    assert.equal(list.statusCode, 503, list.body);
    assert.equal(list.json().code, 'CG_ERR_UNAVAILABLE');
    const ready = await h.call('GET', '/readyz', undefined);
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().redis, false);

    await h.redis.restart();
    let back = await h.call('GET', '/v1/rules', t.admin);
    for (let i = 0; i < 100 && back.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await h.call('GET', '/v1/rules', t.admin);
    }
    assert.equal(back.statusCode, 200, back.body);
    // The rule written before the outage is still there.
    assert.deepEqual(
      back.json().items.map((r: { id: number }) => r.id),
      [created.json().rule.id],
    );
  });
});

describe.skipIf(skipWithoutLocalRedis)(
  'the API on its fail-fast connection (as `callguard serve` runs it) while Redis is down',
  () => {
    let redis: TestRedis;
    let app: ApiApp;
    let deps: ApiDeps;
    let registry: SyncRegistry;
    const store = { streamMaxLen: 10_000, snapshotEvery: 1_000 };
    beforeAll(async () => {
      redis = await startRedis({ private: true });
      const patient = redis.client();
      registry = new SyncRegistry({ client: patient, log: silentLogger, store, blockMs: 200 });
      const fast = failFastClient(patient);
      assert.ok(await connectedWithin(fast, 5_000));
      deps = apiDepsOver({
        config: { CALLGUARD_SYSTEM_KEY: SYSTEM_KEY },
        client: fast,
        registry,
        log: silentLogger,
        store,
      });
      app = await buildApiApp(deps, { docs: false });
    });
    afterAll(async () => {
      await app?.close();
      deps?.client.disconnect();
      await registry?.stop();
      await redis?.stop();
    });

    const timed = async (method: 'GET' | 'POST', url: string, key?: string, body?: unknown) => {
      const t0 = performance.now();
      const res = await app.inject({
        method,
        url,
        headers: key ? { authorization: `Bearer ${key}` } : {},
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { res, ms: performance.now() - t0 };
    };

    it('answers 503 at once for writes and unknown keys, checks from memory, says why in /readyz, and resumes', async () => {
      const t = redis.tenant('fast');
      await deps.tenants.create(t);
      const admin = (await deps.keys.create(t, { role: 'tenant_admin' })).key;
      const created = await timed('POST', '/v1/rules', admin, { called: '_1404!' });
      assert.equal(created.res.statusCode, 201, created.res.body);
      assert.equal(
        (await timed('POST', '/v1/check', admin, { called: '14045551234', direction: 'inbound' })).res.json()
          .action,
        'block',
      );

      await redis.kill9();
      await eventually('the API connection sees the outage', () => deps.client.status !== 'ready');
      // The bar: 503 within 1 s (it was ~30 s); the check never waits for Redis.
      const write = await timed('POST', '/v1/rules', admin, { called: '15550001111' });
      assert.equal(write.res.statusCode, 503, write.res.body);
      assert.equal(write.res.json().code, 'CG_ERR_UNAVAILABLE');
      assert.ok(write.ms < 1_000, `write answered after ${Math.round(write.ms)} ms`);
      const stranger = `${admin.slice(0, admin.lastIndexOf('.') + 1)}${randomBytes(32).toString('base64url')}`;
      const unknown = await timed('POST', '/v1/check', stranger, {
        called: '14045551234',
        direction: 'inbound',
      });
      assert.equal(unknown.res.statusCode, 503, unknown.res.body);
      assert.ok(unknown.ms < 1_000, `unknown key answered after ${Math.round(unknown.ms)} ms`);
      const realNow = deps.now;
      (deps as { now: () => number }).now = () => realNow() + 60_000;
      try {
        const check = await timed('POST', '/v1/check', admin, {
          called: '14045559999',
          direction: 'inbound',
        });
        assert.equal(check.res.statusCode, 200, check.res.body);
        assert.equal(check.res.json().action, 'block');
        const screen = await timed('POST', '/v1/screen', admin, { numbers: ['14045550000', '15550000000'] });
        assert.equal(screen.res.statusCode, 200, screen.res.body);
        assert.equal(screen.res.json().blocked, 1);
      } finally {
        (deps as { now: () => number }).now = realNow;
      }
      const ready = (await timed('GET', '/readyz')).res;
      assert.equal(ready.statusCode, 503);
      assert.match(ready.json().reasons.join('\n'), /Redis does not answer/);

      await redis.restart();
      const back = await eventually(
        'writes work again without a restart',
        async () => {
          const r = await timed('POST', '/v1/rules', admin, { called: '15550002222' });
          return r.res.statusCode === 201 ? r : undefined;
        },
        300,
      );
      assert.equal(back.res.statusCode, 201);
      const readyAgain = (await timed('GET', '/readyz')).res;
      assert.equal(readyAgain.statusCode, 200, readyAgain.body);
      assert.deepEqual(readyAgain.json().reasons, []);
    });
  },
);
