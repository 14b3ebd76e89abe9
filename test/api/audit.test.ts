import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { AuditEntry } from '../../src/store/audit-repository.js';
import { type JobsApi, startJobsApi } from '../jobs/support/jobs-api.js';
import { field, filePart, multipartBody } from '../jobs/support/multipart.js';
import { skipWithoutRedis } from '../support/redis-server.js';

const SYSTEM = { authorization: 'Bearer system-key-for-tests-0123456789' };

/** What one admin change must leave in the trail: one entry, with these fields. */
interface Expected {
  kind: string;
  action: string;
  target?: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  beforeAbsent?: true;
  afterAbsent?: true;
  /** 'system': recorded by the worker, not by the key that made the request. */
  actor?: 'system';
  /** A second entry the same change leaves after the first (an import's summary when it ends). */
  followedBy?: Expected;
}

describe.skipIf(skipWithoutRedis)('audit trail of admin changes', () => {
  let h: JobsApi;
  beforeAll(async () => {
    h = await startJobsApi('audit', 'audit-test-secret-key-01');
  });
  afterAll(async () => {
    await h?.stop();
  });

  const call = async (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => {
    const res = await h.app.inject({
      method,
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    return res;
  };
  const trail = async (auth: Record<string, string>, query = ''): Promise<AuditEntry[]> => {
    const res = await call('GET', `/v1/audit?limit=1000${query}`, auth);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().items as AuditEntry[];
  };
  /** Waits until the trail holds `count` entries, then a little longer to see that no more come. */
  const settled = async (auth: Record<string, string>, count: number): Promise<AuditEntry[]> => {
    for (let i = 0; i < 200; i++) {
      const items = await trail(auth);
      if (items.length >= count) {
        await new Promise((r) => setTimeout(r, 100));
        return trail(auth);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return trail(auth);
  };

  const newTenant = async () => {
    const id = h.redis.tenant('audit');
    await h.deps.tenants.create(id);
    const { key, record } = await h.deps.keys.create(id, { role: 'tenant_admin', name: 'alice' });
    return { id, keyId: record.id, auth: { authorization: `Bearer ${key}` } };
  };

  it('records each kind of admin change exactly once, with who, what, before and after', async () => {
    const t = await newTenant();
    const ruleOf = async (res: { json(): { rule: { id: number } } }) => res.json().rule.id;
    let ruleId = 0;
    let blockId = 0;
    let keyId = '';
    let serverId = '';
    let scheduleId = '';
    const cases: Array<[string, () => Promise<{ statusCode: number; body: string }>, Expected]> = [
      [
        'PUT /v1/ous (create)',
        () => call('PUT', '/v1/ous/east', t.auth, { name: 'East' }),
        {
          kind: 'ou',
          action: 'create',
          target: 'east',
          after: { name: 'East' },
          beforeAbsent: true,
        },
      ],
      [
        'PUT /v1/ous (replace)',
        () => call('PUT', '/v1/ous/east', t.auth, { name: 'East coast' }),
        {
          kind: 'ou',
          action: 'update',
          target: 'east',
          before: { name: 'East' },
          after: { name: 'East coast' },
        },
      ],
      [
        'PUT /v1/groups',
        () => call('PUT', '/v1/groups/dnc', t.auth, { name: 'DNC', ou: 'east' }),
        {
          kind: 'group',
          action: 'create',
          target: 'dnc',
          after: { name: 'DNC', ou: 'east' },
        },
      ],
      [
        'PUT /v1/types',
        () =>
          call('PUT', '/v1/types/wrap', t.auth, {
            name: 'Wrap',
            operation: 'auto_wrap_up',
            businessResult: 'DNC',
          }),
        { kind: 'type', action: 'create', target: 'wrap', after: { businessResult: 'DNC' } },
      ],
      [
        'POST /v1/rules',
        async () => {
          const res = await call('POST', '/v1/rules', t.auth, {
            called: '_1404!',
            action: 'block',
            ou: 'east',
          });
          ruleId = await ruleOf(res);
          return res;
        },
        { kind: 'rule', action: 'create', after: { called: '_1404!', action: 'block' }, beforeAbsent: true },
      ],
      [
        'PUT /v1/rules/{id}',
        () =>
          call('PUT', `/v1/rules/${ruleId}`, t.auth, {
            called: '_1404!',
            action: 'allow',
            ou: 'east',
          }),
        { kind: 'rule', action: 'update', before: { action: 'block' }, after: { action: 'allow' } },
      ],
      [
        'POST /v1/rules?duplicates=override',
        () =>
          call('POST', '/v1/rules?duplicates=override', t.auth, {
            called: '_1404!',
            action: 'block',
            ou: 'east',
            remarks: 'again',
          }),
        {
          kind: 'rule',
          action: 'update',
          before: { action: 'allow' },
          after: { action: 'block', remarks: 'again' },
        },
      ],
      [
        'POST /v1/blocklist',
        async () => {
          const res = await call('POST', '/v1/blocklist', t.auth, {
            number: '14045266123',
            group: 'dnc',
            type: 'wrap',
            ou: 'east',
          });
          blockId = await ruleOf(res);
          return res;
        },
        { kind: 'rule', action: 'create', after: { called: '14045266123', groupId: 'dnc', typeId: 'wrap' } },
      ],
      [
        'PUT /v1/tasks/{id}/groups',
        () => call('PUT', '/v1/tasks/camp-1/groups', t.auth, { groups: ['dnc'] }),
        {
          kind: 'binding',
          action: 'update',
          target: 'camp-1',
          before: { groups: [] },
          after: { groups: ['dnc'] },
        },
      ],
      [
        'PATCH /v1/params',
        () => call('PATCH', '/v1/params', t.auth, { hangupCause: 17 }),
        {
          kind: 'params',
          action: 'update',
          before: { hangupCause: 21 },
          after: { hangupCause: 17 },
        },
      ],
      [
        'POST /v1/keys',
        async () => {
          const res = await call('POST', '/v1/keys', t.auth, { role: 'agent', name: 'bob', ous: ['east'] });
          keyId = res.json().record.id;
          return res;
        },
        { kind: 'key', action: 'create', after: { name: 'bob', role: 'agent' } },
      ],
      [
        'DELETE /v1/keys/{id}',
        () => call('DELETE', `/v1/keys/${keyId}`, t.auth),
        {
          kind: 'key',
          action: 'delete',
          before: { name: 'bob' },
          afterAbsent: true,
        },
      ],
      [
        'DELETE /v1/rules/{id}',
        () => call('DELETE', `/v1/rules/${blockId}`, t.auth),
        {
          kind: 'rule',
          action: 'delete',
          before: { called: '14045266123' },
          afterAbsent: true,
        },
      ],
      [
        'POST /v1/rules/bulk-delete',
        () => call('POST', '/v1/rules/bulk-delete', t.auth, { ou: 'east' }),
        {
          kind: 'rule',
          action: 'delete',
          target: 'bulk-delete',
          before: { selected: 1 },
          after: { deleted: 1 },
        },
      ],
      [
        'DELETE /v1/groups/{id}',
        () => call('DELETE', '/v1/groups/dnc', t.auth),
        {
          kind: 'group',
          action: 'delete',
          target: 'dnc',
          before: { name: 'DNC' },
          afterAbsent: true,
        },
      ],
      [
        'DELETE /v1/types/{id}',
        () => call('DELETE', '/v1/types/wrap', t.auth),
        {
          kind: 'type',
          action: 'delete',
          target: 'wrap',
        },
      ],
      [
        'POST /v1/file-servers',
        async () => {
          const res = await call('POST', '/v1/file-servers', t.auth, {
            name: 'sftp',
            host: '127.0.0.1',
            port: 2222,
            username: 'u',
            password: 'hunter2-secret',
            root: '/data',
          });
          serverId = res.json().id;
          return res;
        },
        { kind: 'file_server', action: 'create', after: { name: 'sftp', host: '127.0.0.1' } },
      ],
      [
        'POST /v1/schedules',
        async () => {
          const res = await call('POST', '/v1/schedules', t.auth, {
            kind: 'import',
            name: 'nightly',
            cron: '0 3 * * *',
            timezone: 'UTC',
            file: { serverId, path: 'in', fileName: 'dnc.csv' },
            params: { overrideRule: 'skip' },
          });
          scheduleId = res.json().id;
          return res;
        },
        { kind: 'schedule', action: 'create', after: { name: 'nightly' } },
      ],
      [
        'POST /v1/schedules/{id}/pause',
        () => call('POST', `/v1/schedules/${scheduleId}/pause`, t.auth),
        {
          kind: 'schedule',
          action: 'update',
        },
      ],
      [
        'DELETE /v1/schedules/{id}',
        () => call('DELETE', `/v1/schedules/${scheduleId}`, t.auth),
        {
          kind: 'schedule',
          action: 'delete',
          afterAbsent: true,
        },
      ],
      [
        'POST /v1/imports (upload of 3 rows: an entry when it starts, a summary when it ends)',
        async () => {
          const { payload, contentType } = multipartBody([
            field('overrideRule', 'skip'),
            filePart(
              'called,action\n14045550001,block\n14045550002,block\n14045550003,block\n',
              'file',
              'dnc-week-49.csv',
            ),
          ]);
          const res = await h.app.inject({
            method: 'POST',
            url: '/v1/imports',
            headers: { ...t.auth, 'content-type': contentType },
            payload,
          });
          const done = await h.jobs.service.waitFor(t.id, res.json().id, undefined, 60_000);
          assert.equal(done.state, 'completed');
          return res;
        },
        {
          kind: 'import',
          action: 'start',
          after: { source: 'upload', fileName: 'dnc-week-49.csv' },
          followedBy: {
            kind: 'import',
            action: 'finish',
            after: { source: 'upload', read: 3, imported: 3, skipped: 0, failed: 0 },
            actor: 'system',
          },
        },
      ],
      [
        'POST /v1/exports',
        () =>
          call('POST', '/v1/exports', t.auth, {
            target: { mode: 'download' },
            password: 'Secr3t@pass',
            filter: {},
          }),
        { kind: 'export', action: 'start', after: { target: { mode: 'download' } } },
      ],
      [
        'DELETE /v1/file-servers/{id}',
        () => call('DELETE', `/v1/file-servers/${serverId}`, t.auth),
        {
          kind: 'file_server',
          action: 'delete',
          before: { name: 'sftp' },
          afterAbsent: true,
        },
      ],
    ];

    const check = (e: AuditEntry, want: Expected, name: string) => {
      assert.equal(`${e.kind}.${e.action}`, `${want.kind}.${want.action}`, name);
      if (want.target) assert.equal(e.target, want.target, name);
      if (want.actor === 'system') assert.equal(e.actor.keyId, 'system', name);
      else assert.deepEqual(e.actor, { keyId: t.keyId, name: 'alice', role: 'tenant_admin' }, name);
      for (const [side, fields] of [
        ['before', want.before],
        ['after', want.after],
      ] as const) {
        for (const [k, v] of Object.entries(fields ?? {})) {
          assert.deepEqual((e[side] as Record<string, unknown>)?.[k], v, `${name}: ${side}.${k}`);
        }
      }
      if (want.beforeAbsent) assert.equal(e.before, undefined, `${name}: no before`);
      if (want.afterAbsent) assert.equal(e.after, undefined, `${name}: no after`);
    };
    let count = 0;
    for (const [name, act, want] of cases) {
      const res = await act();
      assert.ok(res.statusCode < 300, `${name}: ${res.statusCode} ${res.body}`);
      const added = want.followedBy ? 2 : 1;
      count += added;
      const items = await settled(t.auth, count);
      assert.equal(items.length, count, `${name}: ${added} entries, got ${items.length - count + added}`);
      if (!want.followedBy) check(items[0]!, want, name);
      else {
        // Two writers (the API's buffer, the worker's direct write) may land in either order; each
        // entry carries its own time.
        const [a, b] = [items[0]!, items[1]!];
        const first = a.action === want.action ? a : b;
        check(first, want, name);
        check(first === a ? b : a, want.followedBy, `${name} (then)`);
      }
    }
    const all = JSON.stringify(await trail(t.auth));
    assert.ok(!all.includes('hunter2-secret'), 'a file server password never enters the trail');
    assert.ok(!all.includes('Secr3t@pass'), 'an export password never enters the trail');
  });

  it('records nothing for a refused change, and the operator as "system"', async () => {
    const t = await newTenant();
    assert.equal((await call('PUT', '/v1/groups/g', t.auth, { name: 'G', ou: 'nowhere' })).statusCode, 400);
    assert.equal((await call('DELETE', '/v1/rules/999', t.auth)).statusCode, 404);
    assert.equal((await call('POST', '/v1/rules', t.auth, { called: 'abc' })).statusCode, 400);
    const id = h.redis.tenant('sys');
    assert.equal((await call('POST', '/v1/tenants', SYSTEM, { id })).statusCode, 201);
    assert.equal((await call('POST', `/v1/tenants/${id}/keys`, SYSTEM, { name: 'first' })).statusCode, 201);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(await trail(t.auth), []);
    const admin = (await h.deps.keys.create(id, { role: 'tenant_admin' })).key;
    const items = await trail({ authorization: `Bearer ${admin}` });
    assert.deepEqual(
      items.map((e) => [e.kind, e.action, e.actor.keyId]),
      [
        ['key', 'create', 'system'],
        ['tenant', 'create', 'system'],
      ],
    );
  });

  it('filters by kind, key and time, pages newest first, and shows an agent only its OUs', async () => {
    const t = await newTenant();
    await call('PATCH', '/v1/params', t.auth, { dataIsolation: true });
    for (const ou of ['east', 'west']) await call('PUT', `/v1/ous/${ou}`, t.auth, { name: ou });
    for (let i = 0; i < 5; i++) {
      await call('POST', '/v1/rules', t.auth, { called: `1555000${i}`, ou: i % 2 ? 'west' : 'east' });
    }
    const agent = await h.deps.keys.create(t.id, {
      role: 'agent',
      ous: ['east'],
      permissions: ['rules:read', 'rules:create'],
    });
    const agentAuth = { authorization: `Bearer ${agent.key}` };
    await call('POST', '/v1/rules', agentAuth, { called: '15550009', ou: 'east' });
    const all = await settled(t.auth, 9);
    assert.equal(all.length, 9);
    assert.deepEqual(
      (await trail(t.auth, '&kind=rule')).map((e) => e.after && (e.after as { called: string }).called),
      ['15550009', '15550004', '15550003', '15550002', '15550001', '15550000'],
    );
    assert.deepEqual(
      (await trail(t.auth, `&keyId=${agent.record.id}`)).map((e) => e.kind),
      ['rule'],
    );
    const mid = all[3]!.at;
    assert.ok((await trail(t.auth, `&to=${mid}`)).every((e) => e.at <= mid));
    assert.ok((await trail(t.auth, `&from=${new Date(mid).toISOString()}`)).every((e) => e.at >= mid));
    // Paging: two at a time, newest first, nothing repeated or skipped.
    const paged: string[] = [];
    for (let cursor: string | undefined, n = 0; n < 10; n++) {
      const res = (await call('GET', `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, t.auth)).json();
      paged.push(...res.items.map((e: AuditEntry) => e.id));
      cursor = res.next;
      if (!cursor) break;
    }
    assert.deepEqual(
      paged,
      all.map((e) => e.id),
    );
    // The agent: east's rules and the east OU, nothing of west, nor params or keys.
    const seen = await trail(agentAuth);
    assert.ok(seen.length > 0);
    assert.ok(
      seen.every((e) => e.ous.includes('east')),
      JSON.stringify(seen.map((e) => e.ous)),
    );
    assert.equal(seen.filter((e) => e.kind === 'rule').length, 4);
    const bad = await call('GET', '/v1/audit?kind=nope', t.auth);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /kind/);
  });

  it('refuses an expired key with a clear 401, and lists keys with expiry and last use', async () => {
    const t = await newTenant();
    // Long enough for the first use to come before it, however loaded the machine.
    const soon = new Date(Date.now() + 4000).toISOString();
    const created = await call('POST', '/v1/keys', t.auth, { role: 'agent', name: 'temp', expiresAt: soon });
    assert.equal(created.statusCode, 201, created.body);
    const temp = { authorization: `Bearer ${created.json().key}` };
    assert.equal((await call('GET', '/v1/rules', temp)).statusCode, 200);
    const listed = (await call('GET', '/v1/keys', t.auth)).json().items as Array<{
      name?: string;
      expiresAt?: number;
      lastUsedAt?: number;
    }>;
    const entry = listed.find((k) => k.name === 'temp')!;
    assert.equal(entry.expiresAt, Date.parse(soon));
    assert.ok(entry.lastUsedAt !== undefined && Date.now() - entry.lastUsedAt < 10_000, 'last use listed');
    assert.ok(JSON.stringify(listed).indexOf(created.json().key) < 0, 'never the key');
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 50));
    const refused = await call('GET', '/v1/rules', temp);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().message, /expired at \d{4}-\d\d-\d\dT/);
    const past = await call('POST', '/v1/keys', t.auth, { expiresAt: '2001-01-01T00:00:00Z' });
    assert.equal(past.statusCode, 400);
    assert.match(past.json().message, /expiresAt.*not in the future/);
  });
});
