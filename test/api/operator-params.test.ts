import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OPERATOR_PARAMS } from '../../src/store/tenant-params.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, SYSTEM_KEY, startApi } from './api-harness.js';

describe.skipIf(skipWithoutRedis)('operator parameters', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a tenant admin cannot let its webhooks reach private addresses or raise its own schedule limits', async () => {
    const t = await h.tenant('op');
    for (const [field, value] of [
      ['allowPrivateWebhookTargets', true],
      ['maxScheduledImports', 500],
      ['maxScheduledExports', 500],
      ['scheduleLimit', 500],
    ] as const) {
      const res = await h.call('PATCH', '/v1/params', t.admin, { hangupCause: 17, [field]: value });
      assert.equal(res.statusCode, 403, `${field}: ${res.body}`);
      assert.match(res.json().message, new RegExp(`${field}.*system key`));
      assert.deepEqual(res.json().details.fields, [field]);
    }
    const params = (await h.call('GET', '/v1/params', t.admin)).json();
    assert.equal(params.allowPrivateWebhookTargets, false, 'still shown, read-only');
    assert.equal(params.maxScheduledImports, 10);
    assert.equal(params.hangupCause, 21, 'a refused PATCH changes nothing');
    // The tenant's own settings still go through.
    assert.equal((await h.call('PATCH', '/v1/params', t.admin, { hangupCause: 17 })).json().hangupCause, 17);
  });

  it('the system key sets them with PATCH /v1/tenants/{tenantId}/params', async () => {
    const t = await h.tenant('op2');
    const url = `/v1/tenants/${t.id}/params`;
    const res = await h.call('PATCH', url, SYSTEM_KEY, {
      allowPrivateWebhookTargets: true,
      maxScheduledImports: 3,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().allowPrivateWebhookTargets, true);
    assert.equal((await h.call('GET', '/v1/params', t.admin)).json().maxScheduledImports, 3);
    assert.equal((await h.call('PATCH', url, t.admin, { maxScheduledImports: 4 })).statusCode, 401);
    assert.equal((await h.call('PATCH', '/v1/tenants/nope-nope/params', SYSTEM_KEY, {})).statusCode, 404);
    assert.ok(OPERATOR_PARAMS.length >= 4);
  });
});
