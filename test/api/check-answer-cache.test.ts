import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { view } from '../../src/api/routes/check-routes.js';
import { toCallContext } from '../../src/domain/call-context.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * /v1/check keeps the JSON answer of a winner that alone shapes it (src/api/check-answer-cache.ts):
 * a repeated check must give the same bytes as the engine's decision would, and any change to what
 * the answer shows must show at once.
 */
describe.skipIf(skipWithoutRedis)('/v1/check answers kept by winning rule', () => {
  let h: ApiHarness;
  let tenant: { id: string; admin: string };
  const called = '15550004321';

  beforeAll(async () => {
    h = await startApi();
    tenant = await h.tenant('answers');
  });
  afterAll(async () => {
    await h?.stop();
  });

  const check = async (number = called) => {
    const res = await h.call('POST', '/v1/check', tenant.admin, { called: number, direction: 'outbound' });
    assert.equal(res.statusCode, 200, res.body);
    return res.body;
  };
  /** The answer as built from the node's engine and the stored rule, without any kept JSON. */
  const fresh = async (number = called) => {
    const decider = h.deps.registry.deciderFor(tenant.id)!;
    const d = decider.decide(
      toCallContext({ called: number, direction: 'outbound' }, decider.policy, Date.now()),
    );
    const stored = d.rule ? ((await h.deps.rules.get(tenant.id, d.rule.id)) ?? null) : null;
    return JSON.stringify(view(d, stored));
  };
  /** Polls until `ok` (catalog writes reach the node's engine through the change stream). */
  const until = async (ok: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await ok()); i++) await sleep(50);
    assert.ok(await ok());
  };

  it('answers a repeated check with the same bytes as a fresh answer, and shows every change at once', async () => {
    await h.call('PUT', '/v1/types/wrap', tenant.admin, {
      name: 'Wrap',
      operation: 'auto_wrap_up',
      businessResult: 'DNC',
    });
    const created = await h.call('POST', '/v1/rules', tenant.admin, {
      called,
      direction: 'outbound',
      typeId: 'wrap',
      remarks: 'first',
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().rule.id as number;

    // the tenant default, then the rule: asked twice, the same answer as built fresh
    for (const number of ['15559999999', called]) {
      const first = await check(number);
      assert.equal(await check(number), first);
      assert.equal(first, await fresh(number));
    }
    assert.equal(JSON.parse(await check()).rule.remarks, 'first');

    // the stored rule changes (remarks only: the engine's view of it is the same)
    const put = await h.call('PUT', `/v1/rules/${id}`, tenant.admin, {
      called,
      direction: 'outbound',
      typeId: 'wrap',
      remarks: 'second',
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(JSON.parse(await check()).rule.remarks, 'second');
    assert.equal(await check(), await fresh());

    // the type's outcome changes
    await h.call('PUT', '/v1/types/wrap', tenant.admin, {
      name: 'Wrap',
      operation: 'auto_wrap_up',
      businessResult: 'LATER',
    });
    await until(async () => JSON.parse(await check()).outcome.businessResult === 'LATER');
    assert.equal(await check(), await fresh());

    // another rule matches too: the answer names the runner-up
    const prefix = await h.call('POST', '/v1/rules', tenant.admin, {
      called: '_1555000!',
      direction: 'outbound',
      action: 'allow',
    });
    assert.equal(prefix.statusCode, 201, prefix.body);
    const beaten = JSON.parse(await check());
    assert.equal(beaten.runnerUp?.id, prefix.json().rule.id);
    assert.match(beaten.why, /it beat rule/);
    assert.equal(await check(), await fresh());

    // the rule goes: the prefix rule wins
    assert.equal((await h.call('DELETE', `/v1/rules/${id}`, tenant.admin)).statusCode, 204);
    const after = JSON.parse(await check());
    assert.equal(after.action, 'allow');
    assert.equal(after.rule.id, prefix.json().rule.id);
    assert.equal(await check(), await fresh());
  });
});
