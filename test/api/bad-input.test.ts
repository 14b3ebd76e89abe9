import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { errorCatalogue } from '../../src/domain/errors.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, SYSTEM_KEY, startApi } from './api-harness.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface RouteInfo {
  readonly method: Method;
  readonly path: string;
  readonly url: string;
  readonly body: boolean;
  readonly bodyIsObject: boolean;
  readonly query: boolean;
  readonly system: boolean;
  readonly public: boolean;
  /** What the route documents it needs ("the system key", "a key with the rules:read permission", ...). */
  readonly needs: string;
}

/** Every documented route, from the OpenAPI document the route schemas produce. */
function routesOf(doc: {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: unknown;
        parameters?: Array<{ in: string }>;
        security?: unknown[];
        description?: string;
      }
    >
  >;
}): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const url = path
        .replace('{id}', path.startsWith('/v1/rules') ? '1' : 'obj1')
        .replace('{tenantId}', 'tenant1')
        .replace('{taskId}', 'task1')
        .replace('{keyId}', '0123456789abcdef');
      const body = op.requestBody as
        | { content?: Record<string, { schema?: { type?: string; oneOf?: unknown; anyOf?: unknown } }> }
        | undefined;
      const schema = body?.content?.['application/json']?.schema;
      out.push({
        method: method.toUpperCase() as Method,
        path,
        url,
        body: body !== undefined,
        bodyIsObject: schema?.type === 'object',
        query: (op.parameters ?? []).some((p) => p.in === 'query'),
        system: path.startsWith('/v1/tenants'),
        public: Array.isArray(op.security) && op.security.length === 0,
        needs: /Needs (.*)\.$/.exec(op.description ?? '')?.[1] ?? '',
      });
    }
  }
  return out;
}

function assertClientError(res: LightMyRequestResponse, what: string, status?: number): void {
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${what}: got ${res.statusCode} ${res.body}`);
  if (status !== undefined) assert.equal(res.statusCode, status, `${what}: ${res.body}`);
  const body = res.json() as { code: string; message: string };
  assert.ok(body.code in errorCatalogue, `${what}: code ${body.code}`);
  assert.ok(
    typeof body.message === 'string' && body.message.length > 10,
    `${what}: message "${body.message}"`,
  );
}

describe.skipIf(skipWithoutRedis)('bad input on every route', () => {
  let h: ApiHarness;
  let routes: RouteInfo[];
  let tenant: { id: string; admin: string };
  const keyFor = (r: RouteInfo) => (r.system ? SYSTEM_KEY : tenant.admin);
  beforeAll(async () => {
    h = await startApi();
    tenant = await h.tenant('bad');
    routes = routesOf(h.app.swagger() as never);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('documents the routes it tests', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const want of [
      'POST /v1/rules',
      'POST /v1/check',
      'POST /v1/screen',
      'PUT /v1/tasks/{taskId}/groups',
    ]) {
      assert.ok(names.includes(want), want);
    }
  });

  it('answers every route without a key with 401', async () => {
    const guarded = routes.filter((x) => !x.public);
    assert.ok(guarded.length > 0, 'no route needs a key');
    for (const r of guarded) {
      const res = await h.call(r.method, r.url, undefined, r.body ? {} : undefined);
      assertClientError(res, `${r.method} ${r.path}`, 401);
    }
  });

  it('answers a key without the permission a route documents with 403 naming it', async () => {
    const none = await h.key(tenant.id, { role: 'agent', permissions: [] });
    let checked = 0;
    for (const r of routes.filter((x) => !x.public && !x.system)) {
      const what = `${r.method} ${r.path} (${r.needs})`;
      assert.ok(r.needs, `${what}: documents who may call it`);
      const res = await h.call(r.method, r.url, none, r.body ? {} : undefined);
      const permission = /the ([a-z]+:[a-z]+) permission/.exec(r.needs)?.[1];
      if (permission || r.needs.includes('tenant_admin')) {
        assertClientError(res, what, 403);
        assert.ok(res.json().message.includes(permission ?? 'tenant_admin'), what);
        checked++;
      } else {
        assert.ok(
          res.statusCode < 500 && res.statusCode !== 401 && res.statusCode !== 403,
          `${what}: ${res.statusCode}`,
        );
      }
    }
    assert.ok(checked > 10);
  });

  it('refuses malformed JSON, wrong types, unknown fields, other media types and oversized bodies', async () => {
    for (const r of routes.filter((x) => x.body)) {
      const what = `${r.method} ${r.path}`;
      const key = keyFor(r);
      assertClientError(await h.call(r.method, r.url, key, '{"called": "1",'), `${what} malformed`, 400);
      assertClientError(await h.call(r.method, r.url, key, '[1,2]'), `${what} array`, 400);
      assertClientError(await h.call(r.method, r.url, key, '"text"'), `${what} string`, 400);
      const unknown = await h.call(r.method, r.url, key, { zzz_unknown: 1 });
      assertClientError(unknown, `${what} unknown field`, 400);
      if (r.bodyIsObject) assert.match(unknown.json().message, /zzz_unknown/, what);
      assertClientError(
        await h.call(r.method, r.url, key, '<a/>', { 'content-type': 'application/xml' }),
        `${what} xml`,
        415,
      );
      const size = r.path === '/v1/screen' ? 17 * 1024 * 1024 : 1024 * 1024 + 10;
      const big = JSON.stringify({ remarks: 'x'.repeat(size) });
      assertClientError(await h.call(r.method, r.url, key, big), `${what} oversized`, 413);
    }
  });

  it('refuses unknown query parameters', async () => {
    const queried = routes.filter((x) => x.query);
    assert.ok(queried.length > 0, 'no route takes query parameters');
    for (const r of queried) {
      const res = await h.call(r.method, `${r.url}?zzz_unknown=1`, keyFor(r), r.body ? {} : undefined);
      assertClientError(res, `${r.method} ${r.path}`, 400);
    }
  });

  const k = () => tenant.admin;
  const table: Array<[string, Method, string, unknown, number, RegExp]> = [
    ['letters in a number', 'POST', '/v1/rules', { called: '12a4' }, 400, /letters are not allowed/],
    ['X before a literal', 'POST', '/v1/rules', { called: '_1X2' }, 400, /pattern/],
    ['N wildcard', 'POST', '/v1/rules', { called: '_1NXX' }, 400, /pattern/],
    [
      'anonymous on the called side',
      'POST',
      '/v1/rules',
      { called: 'anonymous' },
      400,
      /calling number only/,
    ],
    ['a 40-digit number', 'POST', '/v1/rules', { called: '1'.repeat(40) }, 400, /at most 32/],
    ['no number at all', 'POST', '/v1/rules', { direction: 'inbound' }, 400, /called or a calling/],
    ['unknown direction', 'POST', '/v1/rules', { called: '1', direction: 'sideways' }, 400, /inbound/],
    [
      'validity 0',
      'POST',
      '/v1/rules',
      { called: '1', validity: { value: 0, unit: 'day' } },
      400,
      /1 to 120/,
    ],
    [
      'validity 121',
      'POST',
      '/v1/rules',
      { called: '1', validity: { value: 121, unit: 'hour' } },
      400,
      /1 to 120/,
    ],
    [
      'validity in weeks',
      'POST',
      '/v1/rules',
      { called: '1', validity: { value: 1, unit: 'week' } },
      400,
      /hour/,
    ],
    ['validity as text', 'POST', '/v1/rules', { called: '1', validity: '3d' }, 400, /validity/],
    ['bad country', 'POST', '/v1/rules', { called: '1', callingCountry: 'USA' }, 400, /ISO 3166/],
    [
      'unknown country',
      'POST',
      '/v1/rules',
      { called: '1', callingCountry: 'zz' },
      400,
      /ZZ is not a country with a telephone numbering plan/,
    ],
    ['remarks too long', 'POST', '/v1/rules', { called: '1', remarks: 'x'.repeat(2000) }, 400, /remarks/],
    ['duplicates mode', 'POST', '/v1/rules?duplicates=maybe', { called: '1' }, 400, /reject/],
    ['blocklist letters', 'POST', '/v1/blocklist', { number: 'abc', group: 'g', type: 't' }, 400, /letters/],
    [
      'blocklist pattern',
      'POST',
      '/v1/blocklist',
      { number: '_1!', group: 'g', type: 't' },
      400,
      /exact number/,
    ],
    ['blocklist no group', 'POST', '/v1/blocklist', { number: '1', type: 't' }, 400, /group/],
    [
      'blocklist validity',
      'POST',
      '/v1/blocklist',
      { number: '1', group: 'g', type: 't', validity: { value: 500, unit: 'year' } },
      400,
      /1 to 120/,
    ],
    ['check direction', 'POST', '/v1/check', { called: '1', direction: 'both' }, 400, /inbound/],
    ['check negative time', 'POST', '/v1/check', { called: '1', direction: 'inbound', at: -5 }, 400, /at/],
    ['screen not a list', 'POST', '/v1/screen', { numbers: '123' }, 400, /numbers/],
    ['screen number too long', 'POST', '/v1/screen', { numbers: ['1'.repeat(65)] }, 400, /64/],
    [
      'audit cursor not ours',
      'GET',
      '/v1/audit?cursor=abc',
      undefined,
      400,
      /not a cursor this API gave out/,
    ],
    [
      'check time past the last date',
      'POST',
      '/v1/check',
      { called: '1', direction: 'inbound', at: 9007199254740991 },
      400,
      /body\.at: epoch milliseconds \(0 to 8640000000000000\) or an ISO time/,
    ],
    [
      'screen time past the last date',
      'POST',
      '/v1/screen',
      { numbers: ['1'], at: 8640000000000001 },
      400,
      /epoch milliseconds/,
    ],
    [
      'check time not a time',
      'POST',
      '/v1/check',
      { called: '1', direction: 'inbound', at: 'soon' },
      400,
      /ISO time/,
    ],
    [
      'screen query time not a time',
      'POST',
      '/v1/screen?at=soon',
      { numbers: ['1'] },
      400,
      /query\.at: epoch/,
    ],
    [
      'a path that is not valid percent-encoding',
      'PUT',
      '/v1/groups/%FF',
      { name: 'G' },
      400,
      /not a valid url/,
    ],
    ['limit 0', 'GET', '/v1/rules?limit=0', undefined, 400, /limit/],
    [
      'limit in hex',
      'GET',
      '/v1/rules?limit=0x10',
      undefined,
      400,
      /query\.limit: a whole number from 1 to 1000/,
    ],
    ['limit twice', 'GET', '/v1/rules?limit=1&limit=2', undefined, 400, /a whole number from 1 to 1000/],
    ['rule id with an exponent', 'GET', '/v1/rules/1e0', undefined, 400, /path\.id: a whole number/],
    ['limit text', 'GET', '/v1/rules?limit=ten', undefined, 400, /limit/],
    ['match mode', 'GET', '/v1/rules?number=1&match=fuzzy', undefined, 400, /exact/],
    ['expiry not a time', 'GET', '/v1/rules?expiresAfter=yesterday', undefined, 400, /ISO 8601/],
    ['bad number query', 'GET', '/v1/rules?number=12a&match=matching', undefined, 400, /0-9/],
    ['rule id text', 'GET', '/v1/rules/abc', undefined, 400, /id/],
    ['rule id 0', 'GET', '/v1/rules/0', undefined, 400, /id/],
    ['missing rule', 'GET', '/v1/rules/999999', undefined, 404, /does not exist/],
    ['long name', 'PUT', `/v1/groups/${'g'.repeat(200)}`, { name: 'G' }, 400, /128/],
    ['type missing fields', 'PUT', '/v1/types/t', { name: 'T', operation: 'pop_up' }, 400, /promptContent/],
    [
      'type with a refused field',
      'PUT',
      '/v1/types/t',
      { name: 'T', operation: 'auto_wrap_up', businessResult: 'X', jumpAddress: 'y' },
      400,
      /jumpAddress/,
    ],
    ['unknown operation', 'PUT', '/v1/types/t', { name: 'T', operation: 'explode' }, 400, /operation/],
    [
      'a script as the jump address',
      'PUT',
      '/v1/types/t',
      { name: 'T', operation: 'pop_up', promptContent: 'Hi', jumpAddress: ' JavaScript:alert(1)' },
      400,
      /jumpAddress: .*javascript:, data: and vbscript: addresses are refused/,
    ],
    [
      'an agent id of ..',
      'POST',
      '/v1/keys',
      { role: 'agent', agentId: '..' },
      400,
      /agentId: not "\." or "\.\."/,
    ],
    ['group in a missing OU', 'PUT', '/v1/groups/g', { name: 'G', ou: 'nowhere' }, 400, /does not exist/],
    ['params hangup cause', 'PATCH', '/v1/params', { hangupCause: 300 }, 400, /hangupCause/],
    ['params short secret', 'PATCH', '/v1/params', { webhookSecret: 'short' }, 400, /16/],
    [
      'a webhook URL with a password in it',
      'PATCH',
      '/v1/params',
      { webhooks: { agentDesktopUrl: 'https://desk:S3cret@desk.example.com/hook' }, unsignedWebhooks: true },
      400,
      /webhooks\.agentDesktopUrl: webhook URL must not carry credentials/,
    ],
    ['params schedule limit', 'PATCH', '/v1/params', { maxScheduledExports: -1 }, 400, /maxScheduledExports/],
    ['bind not a list', 'PUT', '/v1/tasks/t/groups', { groups: 'g' }, 400, /groups/],
    ['key permission', 'POST', '/v1/keys', { permissions: ['rules:everything'] }, 400, /rules:read/],
    ['key id', 'DELETE', '/v1/keys/xyz', undefined, 400, /16 hex/],
    [
      'key for an OU that does not exist',
      'POST',
      '/v1/keys',
      { role: 'agent', ous: ['nowhere'] },
      400,
      /body\.ous: OU "nowhere" does not exist/,
    ],
    ['wrong method', 'PATCH', '/v1/rules', {}, 404, /no route/],
    ['unknown route', 'GET', '/v1/nothing-here', undefined, 404, /openapi/],
  ];

  it('says what was wrong and what is accepted, for each bad value', async () => {
    for (const [what, method, url, body, status, message] of table) {
      const res = await h.call(method, url, k(), body);
      assertClientError(res, what, status);
      assert.match(res.json().message, message, `${what}: ${res.json().message}`);
    }
  });

  it('refuses a JSON body that is not UTF-8, or says it is in another charset, instead of storing it garbled', async () => {
    const admin = (await h.tenant('utf8')).admin;
    const latin1 = Buffer.concat([
      Buffer.from('{"called":"5571","remarks":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}'),
    ]);
    const bad = await h.call('POST', '/v1/rules', admin, latin1, { 'content-type': 'application/json' });
    assertClientError(bad, 'not UTF-8', 400);
    assert.match(bad.json().message, /not UTF-8/);
    const declared = await h.call('POST', '/v1/rules', admin, latin1, {
      'content-type': 'application/json; charset=latin1',
    });
    assertClientError(declared, 'latin1', 415);
    assert.match(declared.json().message, /charset latin1 is not accepted.*UTF-8/);
    const ok = await h.call('POST', '/v1/rules', admin, JSON.stringify({ called: '5571', remarks: 'café' }), {
      'content-type': 'application/json; charset="UTF-8"',
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().rule.remarks, 'café');
  });

  it('reads a time in a query string as epoch milliseconds or an ISO time, as documented', async () => {
    for (const at of ['1796553383000', '2026-12-06T10:00:00Z']) {
      const res = await h.call('POST', `/v1/screen?at=${at}`, k(), { numbers: ['12025550123'] });
      assert.equal(res.statusCode, 200, `${at}: ${res.body}`);
    }
  });

  it('takes every validity DESIGN allows, up to 120 years (ending at the last second a rule stores)', async () => {
    const t = await h.tenant('long-validity');
    for (const value of [79, 80, 120]) {
      const res = await h.call('POST', '/v1/rules', t.admin, {
        called: `5570${value}`,
        validity: { value, unit: 'year' },
      });
      assert.equal(res.statusCode, 201, `${value} years: ${res.body}`);
      if (value >= 80) assert.equal(res.json().rule.expiresAt, Date.parse('2106-02-07T06:28:15Z'));
    }
  });

  it('screens at most 100,000 numbers per request', async () => {
    const numbers = Array.from({ length: 100_001 }, (_, i) => String(1_000_000 + i));
    const res = await h.call('POST', '/v1/screen', k(), { numbers });
    assertClientError(res, 'too many', 400);
    assert.match(res.json().message, /100000/);
    const csv = await h.call('POST', '/v1/screen', k(), numbers.join('\n'), { 'content-type': 'text/csv' });
    assertClientError(csv, 'too many csv', 422);
  });

  it('left nothing half-written', async () => {
    const counts = await Promise.all(
      ['/v1/rules', '/v1/groups', '/v1/types', '/v1/ous'].map(
        async (u) => (await h.call('GET', u, k())).json().total as number,
      ),
    );
    assert.deepEqual(counts, [0, 0, 0, 0]);
  });

  it('never answers random bodies and queries with a 5xx', async () => {
    const fuzz = await h.tenant('fuzz');
    const body = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom(
          'called',
          'calling',
          'direction',
          'validity',
          'numbers',
          'name',
          'operation',
          'groups',
          'id',
        ),
        fc.jsonValue(),
      ),
      fc.string(),
    );
    const query = fc.dictionary(
      fc.constantFrom(
        'limit',
        'cursor',
        'number',
        'match',
        'sort',
        'duplicates',
        'expiresAfter',
        'taskId',
        'x',
      ),
      fc.string({ maxLength: 20 }),
      { maxKeys: 3 },
    );
    for (const r of routes) {
      await fc.assert(
        fc.asyncProperty(body, query, async (b, q) => {
          const qs = new URLSearchParams(q).toString();
          const url = `${r.url}${qs ? `?${qs}` : ''}`;
          const raw = typeof b === 'string' ? b : JSON.stringify(b);
          const res = await h.call(
            r.method,
            url,
            r.system ? SYSTEM_KEY : fuzz.admin,
            r.method === 'GET' ? undefined : raw,
          );
          assert.ok(
            res.statusCode < 500,
            `${r.method} ${url} ${raw.slice(0, 200)} → ${res.statusCode} ${res.body}`,
          );
        }),
        { numRuns: 25, seed: 4242 },
      );
    }
  });
});
