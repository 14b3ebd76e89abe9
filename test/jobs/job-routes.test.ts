import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp, ApiDeps } from '../../src/api/api-deps.js';
import type { BulkJobs } from '../../src/jobs/bulk-jobs.js';
import { skipWithoutRedis, type TestRedis } from '../support/redis-server.js';
import { type JobsApi, startJobsApi } from './support/jobs-api.js';
import { field, filePart, multipartBody } from './support/multipart.js';

describe.skipIf(skipWithoutRedis)('bulk-jobs API routes', () => {
  let h: JobsApi;
  let redis: TestRedis;
  let app: ApiApp;
  let deps: ApiDeps;
  let jobs: BulkJobs;

  beforeAll(async () => {
    h = await startJobsApi('routes', 'route-test-secret-key-01');
    ({ redis, app, deps, jobs } = h);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const tenant = async () => {
    const id = redis.tenant();
    await deps.tenants.create(id);
    // The OU the imports below name (an import refuses names that do not exist).
    await deps.catalog.putOu(id, { id: 'sales', name: 'sales' });
    const { key } = await deps.keys.create(id, { role: 'tenant_admin' });
    return { id, auth: { authorization: `Bearer ${key}` } };
  };
  const waitDone = async (auth: Record<string, string>, id: string) => {
    for (let i = 0; i < 600; i++) {
      const r = await app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth });
      const v = r.json();
      if (v.state === 'completed' || v.state === 'failed') return v;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('job did not finish');
  };

  it('serves the CSV template with the columns, an example row and a comment on formats', async () => {
    const { auth } = await tenant();
    const r = await app.inject({ method: 'GET', url: '/v1/imports/template', headers: auth });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/csv/);
    assert.match(r.body, /^# callguard rules import template/);
    assert.match(r.body, /\r\nid,called,calling,direction,action,group,type,ou,/);
    assert.match(r.body, /14045266123,,outbound,block/);
  });

  it('imports an upload, shows it in the task view with its errors file', async () => {
    const { auth } = await tenant();
    const { payload, contentType } = multipartBody([
      field('overrideRule', 'override'),
      field('ou', 'sales'),
      field('validityValue', '3'),
      field('validityUnit', 'day'),
      filePart('called,action\n14045266123,block\n1404526612X,block\n'),
    ]);
    const r = await app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { ...auth, 'content-type': contentType },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    const { id } = r.json();
    const v = await waitDone(auth, id);
    assert.equal(v.state, 'completed');
    assert.equal(v.progress.imported, 1);
    assert.equal(v.progress.failed, 1);
    const list = (await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth })).json();
    assert.equal(list.items[0].id, id);
    const errors = await app.inject({ method: 'GET', url: v.errorsFile, headers: auth });
    assert.equal(errors.statusCode, 200);
    assert.match(errors.body, /^line,column,reason\r\n3,called,/);
  });

  it('refuses an export password that breaks the rule, with the rule in the message', async () => {
    const { auth } = await tenant();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/exports',
      headers: auth,
      payload: { password: 'password' },
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'CG_ERR_INPUT_INVALID');
    assert.match(r.json().message, /8 to 12 characters/);
  });

  it('exports for download and streams the zip', async () => {
    const { id: t, auth } = await tenant();
    await deps.rules.create(t, { called: '123', direction: 'both', action: 'block' });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/exports',
      headers: auth,
      payload: { password: 'Pass1234=' },
    });
    assert.equal(r.statusCode, 202, r.body);
    const v = await waitDone(auth, r.json().id);
    assert.equal(v.state, 'completed');
    const file = await app.inject({ method: 'GET', url: v.resultFile, headers: auth });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'application/zip');
    assert.equal(file.rawPayload.subarray(0, 2).toString(), 'PK');
  });

  it('file servers: secrets are write-only; permissions are enforced', async () => {
    const { id: t, auth } = await tenant();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/file-servers',
      headers: auth,
      payload: { name: 'n', host: '127.0.0.1', username: 'u', password: 'pw-secret-1', root: '/srv' },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.ok(!created.body.includes('pw-secret-1'));
    assert.equal(created.json().hasPassword, true);
    const { key } = await deps.keys.create(t, { role: 'agent', permissions: ['rules:read'] });
    const agent = { authorization: `Bearer ${key}` };
    const denied = await app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: agent,
      payload: { serverId: created.json().id, fileName: 'x.csv' },
    });
    assert.equal(denied.statusCode, 403);
    const traversal = await app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: auth,
      payload: { serverId: created.json().id, path: '../etc', fileName: 'passwd' },
    });
    assert.equal(traversal.statusCode, 400);
    assert.match(traversal.json().message, /refused/);
  });

  it('schedules: created over HTTP without echoing the password, at most once a minute; the one over the limit is 422', async () => {
    const { id: t, auth } = await tenant();
    await deps.tenants.setParams(t, { maxScheduledExports: 1 });
    const fs = await jobs.fileServers.create(t, {
      name: 'n',
      host: '127.0.0.1',
      username: 'u',
      password: 'pw-secret-1',
      root: '/srv',
    });
    const body = {
      kind: 'export',
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Riga',
      file: { serverId: fs.id, path: '', fileName: 'rules-{date}.zip' },
      password: 'Night1y@pw',
    };
    // a seconds field would run a whole export every second
    for (const cron of ['* * * * * *', '*/5 0 3 * * *', '@secondly']) {
      const often = await app.inject({
        method: 'POST',
        url: '/v1/schedules',
        headers: auth,
        payload: { ...body, cron },
      });
      assert.equal(often.statusCode, 400, cron);
      assert.match(often.json().message, /^body\.cron: five fields.*at most once a minute/, cron);
    }
    const first = await app.inject({ method: 'POST', url: '/v1/schedules', headers: auth, payload: body });
    assert.equal(first.statusCode, 201, first.body);
    assert.ok(!first.body.includes('Night1y@pw'));
    const second = await app.inject({ method: 'POST', url: '/v1/schedules', headers: auth, payload: body });
    assert.equal(second.statusCode, 422);
    assert.match(second.json().message, /maxScheduledExports = 1/);
    const paused = await app.inject({
      method: 'POST',
      url: `/v1/schedules/${first.json().id}/pause`,
      headers: auth,
    });
    assert.equal(paused.json().state, 'paused');
    const gone = await app.inject({
      method: 'DELETE',
      url: `/v1/schedules/${first.json().id}`,
      headers: auth,
    });
    assert.equal(gone.statusCode, 204);
  });
});
