import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutLocalRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

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
