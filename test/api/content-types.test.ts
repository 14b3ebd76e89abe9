import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiDeps } from '../../src/api/api-deps.js';
import { buildApiApp, registeredRoutes } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { SYSTEM_KEY } from './api-harness.js';
import { type FullApi, startFullApi } from './full-api.js';

const WRONG_TYPES: ReadonlyArray<[string | undefined, string]> = [
  ['text/plain', 'hello'],
  ['application/x-www-form-urlencoded', 'groups=x&a=b'],
  ['application/octet-stream', 'hello'],
  [undefined, 'hello'],
  [
    'multipart/form-data; boundary=x',
    '--x\r\ncontent-disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
  ],
  ['text/csv', 'number\n14045266123\n'],
  ['application/x-ndjson', '"14045266123"\n'],
];

/** A concrete URL for a route pattern. */
const urlOf = (pattern: string, tenant: string): string =>
  pattern
    .replace(':tenantId', tenant)
    .replace(':keyId', '0123456789abcdef')
    .replace(':taskId', 'task1')
    .replace(
      ':id',
      pattern.startsWith('/v1/rules') ? '1' : pattern.startsWith('/v1/dead-letters') ? '1-0' : 'obj1',
    )
    .replace('*', 'x');

const INTERNALS = /Readable|stream|_readableState|at [\w.]+ \(|node:internal/i;

describe.skipIf(skipWithoutRedis)('request bodies are what the route says', () => {
  let h: FullApi;
  let tenant: { id: string; admin: string };
  beforeAll(async () => {
    h = await startFullApi('ctypes');
    tenant = await h.tenant('ct');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a text/plain body on a JSON route instead of taking it as an empty object (415)', async () => {
    await h.call('PUT', '/v1/groups/dnc', tenant.admin, { name: 'DNC' });
    await h.call('PUT', '/v1/tasks/c1/groups', tenant.admin, { groups: ['dnc'] });
    const res = await h.call('PUT', '/v1/tasks/c1/groups', tenant.admin, 'hello', {
      'content-type': 'text/plain',
    });
    assert.equal(res.statusCode, 415, res.body);
    assert.match(res.json().message, /text\/plain.*application\/json/);
    // The task is still bound.
    assert.deepEqual((await h.call('GET', '/v1/tasks/c1/groups', tenant.admin)).json().groups, ['dnc']);
    const check = await h.call('POST', '/v1/check', tenant.admin, 'hello', { 'content-type': 'text/plain' });
    assert.equal(check.statusCode, 415, check.body);
    // Who is calling is asked first: without a key, 401 whatever the body.
    const anonymous = await h.call('PUT', '/v1/tasks/c1/groups', undefined, 'hello', {
      'content-type': 'text/plain',
    });
    assert.equal(anonymous.statusCode, 401, anonymous.body);
  });

  it('answers every route × wrong content type with 415 or the documented handling, never 2xx/5xx or internals', async () => {
    const routes = registeredRoutes(h.app).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    assert.ok(routes.length > 40, `only ${routes.length} routes`);
    let refused = 0;
    for (const r of routes) {
      const key = r.auth === 'system' ? SYSTEM_KEY : r.auth === 'none' ? undefined : tenant.admin;
      for (const [type, body] of WRONG_TYPES) {
        const media = type?.split(';')[0];
        const what = `${r.method} ${r.url} with ${type ?? 'no content-type'}`;
        const res = await h.app.inject({
          method: r.method as 'POST',
          url: urlOf(r.url, tenant.id),
          headers: {
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(type ? { 'content-type': type } : {}),
          },
          payload: body,
        });
        assert.ok(res.statusCode < 500, `${what}: ${res.statusCode} ${res.body}`);
        assert.doesNotMatch(res.body.replaceAll(media ?? '\u0000', ''), INTERNALS, what);
        if (media !== undefined && r.bodyTypes.includes(media)) {
          // Documented handling: the route reads and checks such a body itself.
          continue;
        }
        assert.equal(res.statusCode, 415, `${what}: ${res.body}`);
        assert.equal(res.json().code, 'CG_ERR_UNSUPPORTED_MEDIA_TYPE', what);
        refused++;
      }
    }
    assert.ok(refused > routes.length * 5, `refused ${refused}`);
  });

  it('screen validates its CSV and NDJSON bodies; imports take multipart', async () => {
    const bad = await h.call('POST', '/v1/screen', tenant.admin, 'not json\n', {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.json().message, /line 1/);
    const csv = await h.call('POST', '/v1/screen', tenant.admin, 'number\n14045266123\n', {
      'content-type': 'text/csv',
    });
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(csv.body, /^index,number/);
    const long = await h.call('POST', '/v1/screen', tenant.admin, `number\n1\n"2"\n${'3'.repeat(65)}\n`, {
      'content-type': 'text/csv',
    });
    assert.equal(long.statusCode, 400, long.body);
    assert.match(long.json().message, /^line 4: a number has at most 64 characters/);
  });

  it('refuses to start when a route says nothing about who may call it (deny by default)', async () => {
    await assert.rejects(
      buildApiApp({ ...h.deps, log: silentLogger } as ApiDeps, {
        docs: false,
        routes: [(app) => void app.get('/v1/forgotten', async () => ({ ok: true }))],
      }),
      /GET \/v1\/forgotten declares no config\.auth/,
    );
  });
});
