import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { registeredRoutes } from '../../src/api/app.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { SYSTEM_KEY } from './api-harness.js';
import { type FullApi, startFullApi } from './full-api.js';

/** Whose object a case touches, seen by an agent key of OU east under data isolation. */
type Which = 'own' | 'other' | 'none';
const WHICH: readonly Which[] = ['own', 'other', 'none'];
const OU: Record<Which, string | undefined> = { own: 'east', other: 'west', none: undefined };
const PASSWORD = 'Exp0rt@pw';

interface Fixture {
  tenant: string;
  admin: string;
  /** Agent keys of OU east (the one under test) and west, every permission. */
  east: string;
  west: string;
  group: Record<Which, string>;
  policy: Record<Which, string>;
  type: Record<Which, string>;
  rule: Record<Which, number>;
  number: Record<Which, string>;
  importJob: Record<Which, string>;
  exportJob: Record<Which, string>;
  schedule: Record<Which, string>;
  letter: Record<Which, string>;
  server: string;
}

interface Req {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
}

/**
 * How a route is tried for one of {own OU, other OU, no OU}, and what the east agent must get.
 * `na` routes hold nothing of an OU (their reason is the entry); every other route is tried 3 times.
 */
type Case =
  | { readonly na: string; readonly agent?: number }
  | {
      readonly req: (f: Fixture, which: Which) => Promise<Req | undefined> | Req | undefined;
      readonly check: (res: LightMyRequestResponse, which: Which, f: Fixture) => void | Promise<void>;
    };

const status = (res: LightMyRequestResponse, want: number | number[], what: string) => {
  const list = Array.isArray(want) ? want : [want];
  assert.ok(list.includes(res.statusCode), `${what}: ${res.statusCode} ${res.body}`);
};
/** Own: the route works (any 2xx, or the named status); other OU / no OU: as if it did not exist. */
const ownOr404 =
  (ok: number | number[] = [200, 201, 202, 204]) =>
  (res: LightMyRequestResponse, which: Which) =>
    status(res, which === 'own' ? ok : 404, which);
/** Writing into an OU: own works; another OU or none is refused (403 naming the OU rule). */
const ownOr403 =
  (ok: number | number[] = [200, 201, 202]) =>
  (res: LightMyRequestResponse, which: Which) =>
    status(res, which === 'own' ? ok : 403, which);
/** A list: has the own object, never the other OU's or the OU-less one. */
const listed =
  (
    id: (f: Fixture, which: Which) => string | number,
    // biome-ignore lint/suspicious/noExplicitAny: each list route answers its own JSON shape
    items: (body: any) => Array<string | number>,
  ) =>
  (res: LightMyRequestResponse, which: Which, f: Fixture) => {
    status(res, 200, which);
    const ids = items(res.json());
    assert.equal(ids.includes(id(f, which)), which === 'own', `${which}: ${JSON.stringify(ids)}`);
  };

let fresh = 0;
const next = () => `x${++fresh}`;

describe.skipIf(skipWithoutRedis)(
  'OU isolation: every route × {own OU, other OU, no OU} for an agent key',
  () => {
    let h: FullApi;
    let f: Fixture;

    const as = (key: string, method: string, url: string, body?: unknown) => h.call(method, url, key, body);
    const ok = async (res: Promise<LightMyRequestResponse>) => {
      const r = await res;
      assert.ok(r.statusCode < 300, `${r.statusCode} ${r.body}`);
      return r;
    };
    /** A key (admin, east or west agent) that owns an object of `which`. */
    const ownerKey = (which: Which) => (which === 'own' ? f.east : which === 'other' ? f.west : f.admin);
    const newRule = async (which: Which, called = `1555${String(++fresh).padStart(7, '0')}`) =>
      (await ok(as(f.admin, 'POST', '/v1/rules', { called, ...(OU[which] ? { ou: OU[which] } : {}) }))).json()
        .rule.id as number;
    const newSchedule = async (which: Which) =>
      (
        await ok(
          as(ownerKey(which), 'POST', '/v1/schedules', {
            kind: 'export',
            name: `s-${which}`,
            cron: '0 3 * * *',
            file: { serverId: f.server, path: '', fileName: 'x.zip' },
            ...(OU[which] ? { filter: { ou: OU[which] } } : {}),
            password: PASSWORD,
          }),
        )
      ).json().id as string;
    const newLetter = async (which: Which) =>
      h.deadLetters.add(
        {
          tenant: f.tenant,
          eventId: next(),
          type: 'agent.popup',
          target: 'agentDesktop',
          body: JSON.stringify({
            id: 'e',
            type: 'agent.popup',
            tenant: f.tenant,
            data: { ruleId: f.rule[which] },
          }),
        },
        {
          url: 'https://desk.example.com/hook',
          attempts: 1,
          status: 503,
          error: 'receiver answered 503',
          at: 1,
        },
      );

    const TABLE: Record<string, Case> = {
      'GET /openapi.json': { na: 'public: the API description' },
      'GET /healthz': { na: 'public: liveness' },
      'GET /readyz': { na: 'public: readiness' },
      'GET /metrics': { na: 'public: Prometheus metrics, no tenant data' },
      'GET /console': { na: 'public: the console page' },
      'GET /console/*': { na: 'public: console assets' },
      'POST /v1/tenants': { na: 'system key only', agent: 401 },
      'GET /v1/tenants': { na: 'system key only', agent: 401 },
      'POST /v1/tenants/:tenantId/keys': { na: 'system key only', agent: 401 },
      'PATCH /v1/tenants/:tenantId/params': { na: 'system key only', agent: 401 },
      'GET /v1/keys': { na: 'tenant admin only', agent: 403 },
      'POST /v1/keys': { na: 'tenant admin only', agent: 403 },
      'DELETE /v1/keys/:keyId': { na: 'tenant admin only', agent: 403 },
      'GET /v1/params': { na: 'tenant-wide settings, owned by no OU' },
      'PATCH /v1/params': { na: 'tenant-wide settings, owned by no OU' },
      'GET /v1/imports/template': { na: 'the CSV template, no data' },
      'POST /v1/file-servers': { na: 'file servers are tenant-wide connection settings' },
      'GET /v1/file-servers': { na: 'file servers are tenant-wide connection settings' },
      'GET /v1/file-servers/:id': { na: 'file servers are tenant-wide connection settings' },
      'DELETE /v1/file-servers/:id': { na: 'file servers are tenant-wide connection settings' },
      'PUT /v1/ous/:id': { na: 'tenant admin only', agent: 403 },
      'DELETE /v1/ous/:id': { na: 'tenant admin only', agent: 403 },
      'GET /v1/decisions': { na: 'the audit spans every OU: a confined agent gets 403', agent: 403 },

      'GET /v1/ous': {
        req: (_f, w) => (w === 'none' ? undefined : { method: 'GET', url: '/v1/ous' }),
        check: listed(
          (_f, w) => OU[w]!,
          (b) => b.items.map((o: { id: string }) => o.id),
        ),
      },
      'GET /v1/ous/:id': {
        req: (_f, w) => (w === 'none' ? undefined : { method: 'GET', url: `/v1/ous/${OU[w]}` }),
        check: ownOr404(200),
      },
      'GET /v1/groups': {
        req: () => ({ method: 'GET', url: '/v1/groups' }),
        check: listed(
          (f, w) => f.group[w],
          (b) => b.items.map((o: { id: string }) => o.id),
        ),
      },
      'GET /v1/groups/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/groups/${f.group[w]}` }),
        check: ownOr404(200),
      },
      'PUT /v1/groups/:id': {
        req: (f, w) => ({
          method: 'PUT',
          url: `/v1/groups/${f.group[w]}`,
          body: { name: 'renamed', ou: OU[w] },
        }),
        check: (res, w) => status(res, w === 'own' ? 200 : [403, 404], w),
      },
      'DELETE /v1/groups/:id': {
        req: async (f, w) => {
          const id = next();
          await ok(as(f.admin, 'PUT', `/v1/groups/${id}`, { name: 'G', ...(OU[w] ? { ou: OU[w] } : {}) }));
          return { method: 'DELETE', url: `/v1/groups/${id}` };
        },
        check: ownOr404(),
      },
      'GET /v1/contact-policies': {
        req: () => ({ method: 'GET', url: '/v1/contact-policies' }),
        check: listed(
          (f, w) => f.policy[w],
          (b) => b.items.map((o: { id: string }) => o.id),
        ),
      },
      'GET /v1/contact-policies/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/contact-policies/${f.policy[w]}` }),
        check: ownOr404(200),
      },
      'PUT /v1/contact-policies/:id': {
        req: (f, w) => ({
          method: 'PUT',
          url: `/v1/contact-policies/${f.policy[w]}`,
          body: { name: 'renamed', caps: [{ max: 2, per: 'day' }], ou: OU[w] },
        }),
        check: (res, w) => status(res, w === 'own' ? 200 : [403, 404], w),
      },
      'DELETE /v1/contact-policies/:id': {
        req: async (f, w) => {
          const id = next();
          await ok(
            as(f.admin, 'PUT', `/v1/contact-policies/${id}`, {
              name: 'P',
              caps: [{ max: 1, per: 'day' }],
              ...(OU[w] ? { ou: OU[w] } : {}),
            }),
          );
          return { method: 'DELETE', url: `/v1/contact-policies/${id}` };
        },
        check: ownOr404(),
      },
      'PUT /v1/tasks/:taskId/policies': {
        req: (f, w) => ({ method: 'PUT', url: '/v1/tasks/c9/policies', body: { policies: [f.policy[w]] } }),
        check: (res, w) => status(res, w === 'own' ? 200 : 400, w),
      },
      'GET /v1/tasks/:taskId/policies': {
        req: () => ({ method: 'GET', url: '/v1/tasks/c1/policies' }),
        check: listed(
          (f, w) => f.policy[w],
          (b) => b.policies,
        ),
      },
      'GET /v1/contact-policy-set': {
        req: () => ({ method: 'GET', url: '/v1/contact-policy-set' }),
        check: listed(
          (f, w) => f.policy[w],
          (b) => b.policies.map((o: { id: string }) => o.id),
        ),
      },
      'POST /v1/contact-policy-set': {
        req: (f, w) => ({
          method: 'POST',
          url: '/v1/contact-policy-set',
          body: {
            policies: [
              {
                id: f.policy[w],
                name: 'imported',
                caps: [{ max: 2, per: 'day' }],
                ...(OU[w] ? { ou: OU[w] } : {}),
              },
            ],
            tasks: {},
          },
        }),
        check: (res, w) => status(res, w === 'own' ? 200 : 403, w),
      },
      'GET /v1/types': {
        req: () => ({ method: 'GET', url: '/v1/types' }),
        check: listed(
          (f, w) => f.type[w],
          (b) => b.items.map((o: { id: string }) => o.id),
        ),
      },
      'GET /v1/types/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/types/${f.type[w]}` }),
        check: ownOr404(200),
      },
      'PUT /v1/types/:id': {
        req: (f, w) => ({
          method: 'PUT',
          url: `/v1/types/${f.type[w]}`,
          body: {
            name: 'T2',
            operation: 'auto_wrap_up',
            businessResult: 'B',
            ...(OU[w] ? { ou: OU[w] } : {}),
          },
        }),
        check: (res, w) => status(res, w === 'own' ? 200 : [403, 404], w),
      },
      'DELETE /v1/types/:id': {
        req: async (f, w) => {
          const id = next();
          await ok(
            as(f.admin, 'PUT', `/v1/types/${id}`, {
              name: 'T',
              operation: 'auto_wrap_up',
              businessResult: 'B',
              ...(OU[w] ? { ou: OU[w] } : {}),
            }),
          );
          return { method: 'DELETE', url: `/v1/types/${id}` };
        },
        check: ownOr404(),
      },
      'POST /v1/rules': {
        req: (_f, w) => ({ method: 'POST', url: '/v1/rules', body: { called: '1666000111', ou: OU[w] } }),
        check: ownOr403(201),
      },
      'GET /v1/rules': {
        req: () => ({ method: 'GET', url: '/v1/rules?limit=1000' }),
        check: listed(
          (f, w) => f.rule[w],
          (b) => b.items.map((r: { id: number }) => r.id),
        ),
      },
      'GET /v1/rules/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/rules/${f.rule[w]}` }),
        check: ownOr404(200),
      },
      'PUT /v1/rules/:id': {
        req: (f, w) => ({
          method: 'PUT',
          url: `/v1/rules/${f.rule[w]}`,
          body: { called: f.number[w], action: 'block', remarks: 'changed', ...(OU[w] ? { ou: OU[w] } : {}) },
        }),
        check: async (res, w, fx) => {
          ownOr404(200)(res, w);
          const stored = (await as(fx.admin, 'GET', `/v1/rules/${fx.rule[w]}`)).json();
          assert.equal(stored.remarks === 'changed', w === 'own', `${w}: a foreign rule is not changed`);
        },
      },
      'DELETE /v1/rules/:id': {
        req: async (_f, w) => ({ method: 'DELETE', url: `/v1/rules/${await newRule(w)}` }),
        check: ownOr404(),
      },
      'POST /v1/rules/bulk-delete': {
        req: async (_f, w) => {
          const called = `1888${String(++fresh).padStart(7, '0')}`;
          await newRule(w, called);
          return { method: 'POST', url: '/v1/rules/bulk-delete', body: { number: called } };
        },
        check: (res, w) => {
          status(res, 200, w);
          assert.equal(res.json().deleted, w === 'own' ? 1 : 0, w);
        },
      },
      'POST /v1/blocklist': {
        req: (f, w) => ({
          method: 'POST',
          url: '/v1/blocklist',
          body: {
            number: '1777000111',
            group: f.group.own,
            type: f.type.own,
            ...(OU[w] ? { ou: OU[w] } : {}),
            override: true,
          },
        }),
        check: ownOr403(201),
      },
      'PUT /v1/tasks/:taskId/groups': {
        req: (f, w) => ({ method: 'PUT', url: '/v1/tasks/c9/groups', body: { groups: [f.group[w]] } }),
        check: (res, w) => status(res, w === 'own' ? 200 : 400, w),
      },
      'GET /v1/tasks/:taskId/groups': {
        req: () => ({ method: 'GET', url: '/v1/tasks/c1/groups' }),
        check: listed(
          (f, w) => f.group[w],
          (b) => b.groups,
        ),
      },
      'POST /v1/check': {
        req: (f, w) => ({
          method: 'POST',
          url: '/v1/check',
          body: { called: f.number[w], direction: 'outbound' },
        }),
        check: (res, w, fx) => {
          status(res, 200, w);
          const b = res.json();
          assert.equal(b.action, 'block', w);
          assert.equal(b.rule?.id ?? null, w === 'own' ? fx.rule.own : null, w);
          if (w !== 'own') assert.doesNotMatch(b.why, new RegExp(`rule ${fx.rule[w]}\\b`), w);
        },
      },
      'POST /v1/screen': {
        req: (f, w) => ({ method: 'POST', url: '/v1/screen', body: { numbers: [f.number[w]] } }),
        check: (res, w, fx) => {
          status(res, 200, w);
          const b = res.json();
          assert.equal(b.blocked, 1, w);
          assert.equal(b.results[0].ruleId, w === 'own' ? fx.rule.own : null, w);
        },
      },
      'POST /v1/imports': {
        req: (f, w) => ({
          method: 'POST',
          url: '/v1/imports',
          body: { serverId: f.server, path: '', fileName: 'r.csv', ...(OU[w] ? { ou: OU[w] } : {}) },
        }),
        check: ownOr403(202),
      },
      'POST /v1/exports': {
        req: (_f, w) => ({
          method: 'POST',
          url: '/v1/exports',
          body: { filter: OU[w] ? { ou: OU[w] } : {}, password: PASSWORD },
        }),
        check: ownOr403(202),
      },
      'GET /v1/exports/:id/file': {
        req: (f, w) => ({ method: 'GET', url: `/v1/exports/${f.exportJob[w]}/file` }),
        check: ownOr404(200),
      },
      'POST /v1/schedules': {
        req: (f, w) => ({
          method: 'POST',
          url: '/v1/schedules',
          body: {
            kind: 'export',
            name: 'n',
            cron: '0 4 * * *',
            file: { serverId: f.server, path: '', fileName: 'y.zip' },
            ...(OU[w] ? { filter: { ou: OU[w] } } : {}),
            password: PASSWORD,
          },
        }),
        check: ownOr403(201),
      },
      'GET /v1/audit': {
        req: () => ({ method: 'GET', url: '/v1/audit?kind=rule&limit=1000' }),
        check: listed(
          (f, w) => String(f.rule[w]),
          (b) => b.items.map((e: { target: string }) => e.target),
        ),
      },
      'GET /v1/schedules': {
        req: () => ({ method: 'GET', url: '/v1/schedules' }),
        check: listed(
          (f, w) => f.schedule[w],
          (b) => b.items.map((s: { id: string }) => s.id),
        ),
      },
      'GET /v1/schedules/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/schedules/${f.schedule[w]}` }),
        check: ownOr404(200),
      },
      'POST /v1/schedules/:id/start': {
        req: (f, w) => ({ method: 'POST', url: `/v1/schedules/${f.schedule[w]}/start` }),
        check: ownOr404(200),
      },
      'POST /v1/schedules/:id/pause': {
        req: (f, w) => ({ method: 'POST', url: `/v1/schedules/${f.schedule[w]}/pause` }),
        check: ownOr404(200),
      },
      'DELETE /v1/schedules/:id': {
        req: async (_f, w) => ({ method: 'DELETE', url: `/v1/schedules/${await newSchedule(w)}` }),
        check: ownOr404(204),
      },
      'GET /v1/jobs': {
        req: () => ({ method: 'GET', url: '/v1/jobs?limit=500' }),
        check: (res, w, fx) => {
          listed(
            (f) => f.exportJob[w],
            (b) => b.items.map((j: { id: string }) => j.id),
          )(res, w, fx);
          const ids = res.json().items.map((j: { id: string }) => j.id);
          assert.equal(ids.includes(fx.importJob[w]), w === 'own', w);
        },
      },
      'GET /v1/jobs/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/jobs/${f.exportJob[w]}` }),
        check: ownOr404(200),
      },
      'POST /v1/jobs/:id/retry': {
        req: (f, w) => ({ method: 'POST', url: `/v1/jobs/${f.exportJob[w]}/retry` }),
        // Own: found, but only a failed job can be retried (409).
        check: ownOr404(409),
      },
      'POST /v1/jobs/:id/cancel': {
        req: (f, w) => ({ method: 'POST', url: `/v1/jobs/${f.exportJob[w]}/cancel` }),
        // Own: found, but a finished job cannot be cancelled (409).
        check: ownOr404(409),
      },
      'GET /v1/jobs/:id/errors': {
        req: (f, w) => ({ method: 'GET', url: `/v1/jobs/${f.importJob[w]}/errors` }),
        check: ownOr404(200),
      },
      'GET /v1/dead-letters': {
        req: () => ({ method: 'GET', url: '/v1/dead-letters?limit=500' }),
        check: listed(
          (f, w) => f.letter[w],
          (b) => b.items.map((d: { id: string }) => d.id),
        ),
      },
      'GET /v1/dead-letters/:id': {
        req: (f, w) => ({ method: 'GET', url: `/v1/dead-letters/${f.letter[w]}` }),
        check: ownOr404(200),
      },
      'POST /v1/dead-letters/:id/redeliver': {
        req: async (_f, w) => ({ method: 'POST', url: `/v1/dead-letters/${await newLetter(w)}/redeliver` }),
        check: ownOr404(202),
      },
      'DELETE /v1/dead-letters/:id': {
        req: async (_f, w) => ({ method: 'DELETE', url: `/v1/dead-letters/${await newLetter(w)}` }),
        check: ownOr404(204),
      },
      'GET /v1/rule-hits': {
        req: (f) => ({
          method: 'GET',
          url: `/v1/rule-hits?ids=${f.rule.own},${f.rule.other},${f.rule.none}`,
        }),
        check: listed(
          (f, w) => f.rule[w],
          (b) => b.items.map((i: { ruleId: number }) => i.ruleId),
        ),
      },
    };

    beforeAll(async () => {
      h = await startFullApi('ou');
      const t = await h.tenant('ou');
      const admin = t.admin;
      await h.call('PATCH', '/v1/params', admin, { dataIsolation: true });
      for (const ou of ['east', 'west']) await h.call('PUT', `/v1/ous/${ou}`, admin, { name: ou });
      const all = [
        'rules:read',
        'rules:create',
        'rules:update',
        'rules:delete',
        'rules:import',
        'rules:export',
        'groups:manage',
        'types:manage',
        'tasks:bind',
        'params:manage',
        'servers:manage',
      ];
      const east = await h.key(t.id, { role: 'agent', ous: ['east'], permissions: all as never });
      const west = await h.key(t.id, { role: 'agent', ous: ['west'], permissions: all as never });
      f = { tenant: t.id, admin, east, west } as Fixture;
      const server = await h.call('POST', '/v1/file-servers', admin, {
        name: 'fs',
        host: '127.0.0.1',
        port: 1,
        username: 'u',
        password: 'p',
        root: '/srv',
      });
      f.server = server.json().id;
      f.group = { own: 'g-east', other: 'g-west', none: 'g-none' };
      f.policy = { own: 'p-east', other: 'p-west', none: 'p-none' };
      f.type = { own: 't-east', other: 't-west', none: 't-none' };
      f.number = { own: '14045550001', other: '14045550002', none: '14045550003' };
      f.rule = {} as never;
      f.importJob = {} as never;
      f.exportJob = {} as never;
      f.schedule = {} as never;
      f.letter = {} as never;
      for (const w of WHICH) {
        const ou = OU[w] ? { ou: OU[w] } : {};
        await ok(h.call('PUT', `/v1/groups/${f.group[w]}`, admin, { name: w, ...ou }));
        await ok(
          h.call('PUT', `/v1/contact-policies/${f.policy[w]}`, admin, {
            name: w,
            caps: [{ max: 3, per: 'day' }],
            ...ou,
          }),
        );
        await ok(
          h.call('PUT', `/v1/types/${f.type[w]}`, admin, {
            name: w,
            operation: 'auto_wrap_up',
            businessResult: 'B',
            ...ou,
          }),
        );
        f.rule[w] = (
          await ok(h.call('POST', '/v1/rules', admin, { called: f.number[w], action: 'block', ...ou }))
        ).json().rule.id;
        // Jobs started by the key of that OU (the admin for "none").
        const key = ownerKey(w);
        const exp = await ok(h.call('POST', '/v1/exports', key, { filter: ou, password: PASSWORD }));
        f.exportJob[w] = exp.json().id;
        f.importJob[w] = await h.jobs.service.submitUploadImport(
          t.id,
          Readable.from(['called,action\n14045266123,block\n1404526612X,block\n']),
          OU[w] ? { ou: OU[w] } : {},
          'test',
          w === 'own' ? ['east'] : w === 'other' ? ['west'] : undefined,
        );
        f.schedule[w] = await newSchedule(w);
        f.letter[w] = await newLetter(w);
      }
      await ok(h.call('PUT', '/v1/tasks/c1/groups', admin, { groups: Object.values(f.group) }));
      await ok(h.call('PUT', '/v1/tasks/c1/policies', admin, { policies: Object.values(f.policy) }));
      for (const w of WHICH) {
        await h.jobs.service.waitFor(t.id, f.exportJob[w], undefined, 60_000);
        await h.jobs.service.waitFor(t.id, f.importJob[w], undefined, 60_000);
      }
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('has a table entry for every registered route (a new route must say how it is confined)', () => {
      const missing = registeredRoutes(h.app)
        .filter((r) => r.method !== 'HEAD')
        .map((r) => `${r.method} ${r.url}`)
        .filter((name) => !(name in TABLE));
      assert.deepEqual(missing, []);
    });

    for (const [name, c] of Object.entries(TABLE)) {
      it(name, async () => {
        const [method, pattern] = name.split(' ') as [string, string];
        if ('na' in c) {
          if (c.agent === undefined) return;
          const url = pattern
            .replace(':tenantId', f.tenant)
            .replace(':keyId', '0123456789abcdef')
            .replace(':id', 'x1');
          const res = await h.call(
            method,
            url,
            f.east,
            method === 'GET' || method === 'DELETE' ? undefined : {},
          );
          assert.equal(res.statusCode, c.agent, `${name}: ${res.body}`);
          return;
        }
        for (const w of WHICH) {
          const req = await c.req(f, w);
          if (!req) continue;
          const res = await h.call(req.method, req.url, f.east, req.body);
          await c.check(res, w, f);
        }
      });
    }

    it('check never names a runner-up of another OU, in runnerUp or why', async () => {
      // Own rule (exact) beats a west pattern on the same number: the west rule is the runner-up.
      const own = (
        await ok(h.call('POST', '/v1/rules', f.admin, { called: '14045559999', ou: 'east' }))
      ).json().rule.id;
      const foreign = (
        await ok(h.call('POST', '/v1/rules', f.admin, { called: '_1404555999X', ou: 'west' }))
      ).json().rule.id;
      const asAdmin = (
        await h.call('POST', '/v1/check', f.admin, { called: '14045559999', direction: 'outbound' })
      ).json();
      assert.equal(asAdmin.runnerUp?.id, foreign, 'the admin sees the runner-up');
      const res = (
        await h.call('POST', '/v1/check', f.east, { called: '14045559999', direction: 'outbound' })
      ).json();
      assert.equal(res.rule.id, own);
      assert.equal(res.runnerUp, null);
      assert.match(res.why, /beat a rule outside your OUs/);
      assert.doesNotMatch(res.why, new RegExp(`rule ${foreign}\\b`));
      assert.ok(SYSTEM_KEY);
    });
  },
);
