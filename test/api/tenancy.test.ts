import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildApiApp } from '../../src/api/app.js';
import type { Rule } from '../../src/domain/rule.js';
import { hashApiKey } from '../../src/store/api-key-repository.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, SYSTEM_KEY, startApi } from './api-harness.js';

describe.skipIf(skipWithoutRedis)('tenancy, permissions and keys', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("never shows, counts or changes another tenant's data, and answers 404 as for a missing object", async () => {
    const a = await h.tenant('a');
    const b = await h.tenant('b');
    await h.call('PUT', '/v1/ous/east', a.admin, { name: 'East' });
    await h.call('PUT', '/v1/groups/dnc', a.admin, { name: 'DNC' });
    await h.call('PUT', '/v1/types/wrap', a.admin, {
      name: 'W',
      operation: 'auto_wrap_up',
      businessResult: 'X',
    });
    const rule = (
      await h.call('POST', '/v1/rules', a.admin, { called: '14045266123', groupId: 'dnc' })
    ).json().rule as Rule;
    await h.call('PUT', '/v1/tasks/c1/groups', a.admin, { groups: ['dnc'] });

    assert.equal((await h.call('GET', '/v1/rules', b.admin)).json().total, 0);
    assert.equal((await h.call('GET', '/v1/rules?number=14045266123', b.admin)).json().total, 0);
    for (const [method, url, body] of [
      ['GET', `/v1/rules/${rule.id}`, undefined],
      ['PUT', `/v1/rules/${rule.id}`, { called: '1' }],
      ['DELETE', `/v1/rules/${rule.id}`, undefined],
      ['GET', '/v1/groups/dnc', undefined],
      ['DELETE', '/v1/groups/dnc', undefined],
      ['GET', '/v1/types/wrap', undefined],
      ['GET', '/v1/ous/east', undefined],
    ] as const) {
      const res = await h.call(method, url, b.admin, body);
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().code, 'CG_ERR_NOT_FOUND');
    }
    assert.equal((await h.call('GET', '/v1/groups', b.admin)).json().total, 0);
    assert.deepEqual((await h.call('GET', '/v1/tasks/c1/groups', b.admin)).json().groups, []);
    const check = await h.call('POST', '/v1/check', b.admin, {
      called: '14045266123',
      direction: 'outbound',
    });
    assert.equal(check.json().action, 'allow');
    const screen = await h.call('POST', '/v1/screen', b.admin, { taskId: 'c1', numbers: ['14045266123'] });
    assert.equal(screen.json().blocked, 0);
    assert.equal((await h.call('GET', '/v1/keys', b.admin)).json().items.length, 1);
    // A's rule is untouched.
    assert.equal((await h.call('GET', `/v1/rules/${rule.id}`, a.admin)).json().called, '14045266123');
  });

  it('refuses operations a key has no permission for (403), and unknown keys (401)', async () => {
    const t = await h.tenant('perm');
    const reader = await h.key(t.id, { role: 'agent', permissions: ['rules:read'] });
    const cases = [
      ['POST', '/v1/rules', { called: '1' }, 'rules:create'],
      ['POST', '/v1/rules/bulk-delete', { all: true }, 'rules:delete'],
      ['PATCH', '/v1/params', { dataIsolation: true }, 'params:manage'],
      ['PUT', '/v1/groups/g', { name: 'G' }, 'groups:manage'],
      ['PUT', '/v1/types/t', { name: 'T', operation: 'auto_wrap_up', businessResult: 'X' }, 'types:manage'],
      ['PUT', '/v1/tasks/c/groups', { groups: [] }, 'tasks:bind'],
      ['GET', '/v1/keys', undefined, 'tenant_admin'],
      ['PUT', '/v1/ous/o', { name: 'O' }, 'tenant_admin'],
    ] as const;
    for (const [method, url, body, need] of cases) {
      const res = await h.call(method, url, reader, body);
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(res.json().code, 'CG_ERR_FORBIDDEN');
      assert.ok(res.json().message.includes(need), res.json().message);
    }
    assert.equal((await h.call('GET', '/v1/rules', reader)).statusCode, 200);
    assert.equal((await h.call('GET', '/v1/rules', undefined)).statusCode, 401);
    assert.equal((await h.call('GET', '/v1/rules', `cgk.${t.id}.${'A'.repeat(43)}`)).statusCode, 401);
    assert.equal((await h.call('GET', '/v1/rules', 'garbage')).statusCode, 401);
    assert.equal((await h.call('GET', '/v1/rules', SYSTEM_KEY)).statusCode, 401);
    assert.equal((await h.call('POST', '/v1/tenants', t.admin, { id: 'x' })).statusCode, 401);
  });

  it('limits an agent to its OUs when the tenant has data isolation on', async () => {
    const t = await h.tenant('iso');
    const k = t.admin;
    for (const ou of ['east', 'west']) await h.call('PUT', `/v1/ous/${ou}`, k, { name: ou });
    await h.call('PUT', '/v1/groups/ge', k, { name: 'GE', ou: 'east' });
    await h.call('PUT', '/v1/groups/gw', k, { name: 'GW', ou: 'west' });
    const east = (await h.call('POST', '/v1/rules', k, { called: '1001', ou: 'east' })).json().rule as Rule;
    const west = (await h.call('POST', '/v1/rules', k, { called: '1002', ou: 'west' })).json().rule as Rule;
    await h.call('POST', '/v1/rules', k, { called: '1003' });
    const agent = await h.key(t.id, {
      role: 'agent',
      permissions: ['rules:read', 'rules:create', 'rules:update', 'rules:delete'],
      ous: ['east'],
    });
    // Isolation off: the agent sees every rule.
    assert.equal((await h.call('GET', '/v1/rules', agent)).json().total, 3);
    assert.equal((await h.call('PATCH', '/v1/params', k, { dataIsolation: true })).statusCode, 200);

    const list = (await h.call('GET', '/v1/rules', agent)).json();
    assert.deepEqual(
      list.items.map((r: Rule) => r.id),
      [east.id],
    );
    assert.equal(list.total, 1);
    assert.deepEqual(
      (await h.call('GET', '/v1/groups', agent)).json().items.map((g: { id: string }) => g.id),
      ['ge'],
    );
    assert.equal((await h.call('GET', `/v1/rules/${west.id}`, agent)).statusCode, 404);
    const foreign = (
      await h.call('POST', '/v1/check', agent, { called: '1002', direction: 'inbound' })
    ).json();
    assert.equal(foreign.action, 'block');
    assert.equal(foreign.rule, null);
    assert.match(foreign.why, /outside your OUs/);
    const own = (await h.call('POST', '/v1/check', agent, { called: '1001', direction: 'inbound' })).json();
    assert.equal(own.rule.id, east.id);
    assert.equal(
      (await h.call('PUT', `/v1/rules/${west.id}`, agent, { called: '9', ou: 'east' })).statusCode,
      404,
    );
    assert.equal((await h.call('DELETE', `/v1/rules/${west.id}`, agent)).statusCode, 404);
    assert.equal(
      (await h.call('PUT', `/v1/rules/${east.id}`, agent, { called: '9', ou: 'west' })).statusCode,
      403,
    );
    const noOu = await h.call('POST', '/v1/rules', agent, { called: '2001' });
    assert.equal(noOu.statusCode, 403);
    assert.match(noOu.json().message, /ou/);
    assert.equal((await h.call('POST', '/v1/rules', agent, { called: '2002', ou: 'west' })).statusCode, 403);
    // A duplicate of another OU's rule is neither overridden nor revealed.
    const dup = await h.call('POST', '/v1/rules?duplicates=override', agent, { called: '1002', ou: 'east' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().details, undefined);
    assert.equal((await h.call('GET', `/v1/rules/${west.id}`, k)).json().ou, 'west');
    assert.equal((await h.call('POST', '/v1/rules', agent, { called: '2003', ou: 'east' })).statusCode, 201);
    const deleted = await h.call('POST', '/v1/rules/bulk-delete', agent, { all: true });
    assert.deepEqual(deleted.json(), { deleted: 2 });
    assert.equal((await h.call('GET', '/v1/rules', k)).json().total, 2);
  });

  it('stores keys only as SHA-256: the plain key is nowhere in Redis', async () => {
    const t = await h.tenant('hash');
    assert.equal((await h.call('PUT', '/v1/ous/x', t.admin, { name: 'X' })).statusCode, 200);
    const created = await h.call('POST', '/v1/keys', t.admin, { role: 'agent', ous: ['x'], name: 'desk' });
    assert.equal(created.statusCode, 201);
    assert.equal(created.headers['cache-control'], 'no-store', 'the one answer with the key is not cached');
    const { key, record } = created.json();
    assert.equal((await h.call('GET', '/v1/rules', key)).statusCode, 200);
    const client = h.redis.client();
    const dump: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `cg:{${t.id}}*`, 'COUNT', 1000);
      cursor = next;
      for (const name of keys) {
        dump.push(name);
        const type = await client.type(name);
        if (type === 'hash') dump.push(...Object.entries(await client.hgetall(name)).flat());
        else if (type === 'string') dump.push((await client.get(name)) ?? '');
      }
    } while (cursor !== '0');
    const text = dump.join('\n');
    assert.ok(!text.includes(key), 'plain key stored');
    assert.ok(!text.includes(t.admin), 'plain admin key stored');
    assert.ok(text.includes(hashApiKey(key)));
    const listed = (await h.call('GET', '/v1/keys', t.admin)).json().items;
    assert.ok(!JSON.stringify(listed).includes(key));
    assert.equal((await h.call('DELETE', `/v1/keys/${record.id}`, t.admin)).statusCode, 204);
    assert.equal((await h.call('GET', '/v1/rules', key)).statusCode, 401);
  });

  it('creates tenants and their first keys with the system key, and keeps the webhook secret write-only', async () => {
    const id = h.redis.tenant('sys');
    const created = await h.call('POST', '/v1/tenants', SYSTEM_KEY, { id, params: { dataIsolation: true } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().params.dataIsolation, true);
    assert.equal((await h.call('POST', '/v1/tenants', SYSTEM_KEY, { id })).statusCode, 409);
    const key = (await h.call('POST', `/v1/tenants/${id}/keys`, SYSTEM_KEY, {})).json().key;
    assert.equal((await h.call('POST', '/v1/tenants/nope-nope/keys', SYSTEM_KEY, {})).statusCode, 404);
    const secret = 'a-webhook-secret-0123456789';
    const patched = await h.call('PATCH', '/v1/params', key, {
      webhookSecret: secret,
      webhooks: { agentDesktopUrl: 'https://desk.example/hook' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.ok(!patched.body.includes(secret));
    assert.equal(patched.json().webhookSecretSet, true);
    assert.equal(patched.json().maxScheduledExports, 10);
    assert.ok(!(await h.call('GET', '/v1/params', key)).body.includes(secret));
    // clearing the secret while a URL is set would stop delivery silently: clear both
    const cleared = await h.call('PATCH', '/v1/params', key, { webhookSecret: null, webhooks: {} });
    assert.equal(cleared.json().webhookSecretSet, false);
    const bad = await h.call('PATCH', '/v1/params', key, { webhooks: { agentDesktopUrl: 'ftp://x' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /http/);
  });

  it('turns the system endpoints off when no system key is configured', async () => {
    const app = await buildApiApp({ ...h.deps, config: {} }, { docs: false });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { authorization: `Bearer ${SYSTEM_KEY}` },
        payload: { id: 'x' },
      });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'CG_ERR_SYSTEM_DISABLED');
    } finally {
      await app.close();
    }
  });
});
