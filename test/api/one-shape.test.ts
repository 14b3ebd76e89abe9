import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DEFAULT_BODY_LIMIT } from '../../src/api/app.js';
import { type JobsApi, startJobsApi } from '../jobs/support/jobs-api.js';
import { skipWithoutRedis } from '../support/redis-server.js';

const SYSTEM = { authorization: 'Bearer system-key-for-tests-0123456789' };

describe.skipIf(skipWithoutRedis)('one shape for one thing', () => {
  let h: JobsApi;
  beforeAll(async () => {
    h = await startJobsApi('shapes', 'shape-test-secret-key-01');
  });
  afterAll(async () => h?.stop());

  const tenant = async () => {
    const id = h.redis.tenant();
    await h.deps.tenants.create(id);
    const { key } = await h.deps.keys.create(id, { role: 'tenant_admin' });
    return { id, auth: { authorization: `Bearer ${key}` } };
  };

  it('POST /v1/tenants with withAdminKey returns the first admin key once, and it works', async () => {
    const id = h.redis.tenant('shape');
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: SYSTEM,
      payload: { id, withAdminKey: true },
    });
    assert.equal(r.statusCode, 201, r.body);
    const { adminKey, tenant } = r.json();
    assert.equal(tenant.id, id);
    assert.equal(adminKey.record.role, 'tenant_admin');
    const rules = await h.app.inject({
      method: 'GET',
      url: '/v1/rules',
      headers: { authorization: `Bearer ${adminKey.key}` },
    });
    assert.equal(rules.statusCode, 200, 'the returned key is a working admin key');
    // without the flag the answer is what it was: no key
    const plain = await h.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: SYSTEM,
      payload: { id: h.redis.tenant('shape') },
    });
    assert.equal(plain.statusCode, 201);
    assert.equal(plain.json().adminKey, undefined);
  });

  it('exports name a file server file as schedules do (file), and still take the deprecated target', async () => {
    const { auth } = await tenant();
    const post = (payload: Record<string, unknown>) =>
      h.app.inject({ method: 'POST', url: '/v1/exports', headers: auth, payload });
    const withFile = await post({ password: 'Pass1234=', file: { serverId: 'nowhere', fileName: 'x.zip' } });
    const withTarget = await post({
      password: 'Pass1234=',
      target: { mode: 'server', serverId: 'nowhere', fileName: 'x.zip' },
    });
    // both shapes reach the same check: the named file server
    assert.equal(withFile.statusCode, withTarget.statusCode, withFile.body);
    assert.equal(withFile.json().message, withTarget.json().message);
    assert.match(withFile.json().message, /nowhere/);
    const both = await post({
      password: 'Pass1234=',
      file: { serverId: 'a', fileName: 'x.zip' },
      target: { mode: 'download' },
    });
    assert.equal(both.statusCode, 400);
    assert.match(both.json().message, /give file .* or the deprecated target, not both/);
    const download = await post({ password: 'Pass1234=' });
    assert.equal(download.statusCode, 202, download.body);

    const openapi = h.app.swagger() as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const schema = JSON.stringify(
      openapi.paths['/v1/exports']!.post!.requestBody.content['application/json']!.schema,
    );
    assert.match(schema, /"target":\{[\s\S]*"deprecated":true/);
    const schedules = JSON.stringify(openapi.paths['/v1/schedules']!.post!.requestBody);
    assert.match(schedules, /"file":\{/);
  });

  it('a body over the limit is refused with the limit in the message', async () => {
    const { auth } = await tenant();
    const r = await h.app.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ called: '1', remarks: 'x'.repeat(DEFAULT_BODY_LIMIT) }),
    });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().code, 'CG_ERR_PAYLOAD_TOO_LARGE');
    assert.match(r.json().message, /larger than the 1 MiB \(1,048,576 bytes\) this endpoint accepts/);
    assert.equal(r.json().details.limitBytes, DEFAULT_BODY_LIMIT);
  });
});
