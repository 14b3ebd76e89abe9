import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type JobsApi, startJobsApi } from './support/jobs-api.js';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

describe.skipIf(skipWithoutRedis)('callguard import / export (CLI against a running API)', () => {
  let h: JobsApi;
  let work: string;
  let url: string;
  let key: string;
  let rules: RuleRepository;
  let tenant: string;

  beforeAll(async () => {
    h = await startJobsApi('cli', 'cli-test-secret-key-0123');
    ({ work } = h);
    rules = h.deps.rules;
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    tenant = h.redis.tenant();
    await h.deps.tenants.create(tenant);
    // The OU the import below names (an import refuses names that do not exist).
    await h.deps.catalog.putOu(tenant, { id: 'sales', name: 'sales' });
    key = (await h.deps.keys.create(tenant, { role: 'tenant_admin' })).key;
  });
  afterAll(async () => {
    await h?.stop();
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, CALLGUARD_URL: url, CALLGUARD_API_KEY: key, ...env },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('uploads a file, prints the counts, writes the errors file and exits 3 for refused rows', async () => {
    const file = join(work, 'in.csv');
    writeFileSync(file, 'called,direction\n14045266123,outbound\n12X,outbound\n');
    const errors = join(work, 'errors.csv');
    const r = await cli(['import', file, '--ou', 'sales', '--validity', '3d', '--errors', errors]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /completed: read 2, imported 1, skipped 0, failed 1/);
    assert.match(readFileSync(errors, 'utf8'), /^line,column,reason\r\n3,called,/);
    const [rule] = (await rules.findByPattern(tenant, '14045266123')) ?? [];
    assert.equal(rule?.ou, 'sales');
  });

  it('exports to a zip file with the password from the environment', async () => {
    const zip = join(work, 'out.zip');
    const r = await cli(['export', '--out', zip, '--ou', 'sales'], {
      CALLGUARD_EXPORT_PASSWORD: 'Cli1234@x',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed: exported 1/);
    assert.equal(readFileSync(zip).subarray(0, 2).toString(), 'PK');
    const listed = await cli(['jobs']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 2, 'the import and the export');
    assert.match(listed.stdout, /\texport\t.*completed exported 1/);
    const bad = await cli(['export', '--out', zip, '--password', 'weak']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /8 to 12 characters/);
  });

  // After the export test, which counts the tenant's rules and jobs.
  it('the template the API serves, comment lines and all, imports as it is', async () => {
    // The names its example row uses.
    await h.deps.catalog.putGroup(tenant, { id: 'dnc', name: 'dnc' });
    await h.deps.catalog.putType(tenant, {
      id: 'auto-wrap-up',
      name: 'auto-wrap-up',
      operation: 'auto_wrap_up',
      businessResult: 'blocked',
    });
    const res = await fetch(`${url}/v1/imports/template`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    const file = join(work, 'template.csv');
    writeFileSync(file, await res.text());
    const r = await cli(['import', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed: read 1, imported 1, skipped 0, failed 0/);
    const rule = (await rules.findByPattern(tenant, '14045266123'))?.find((x) => x.groupId === 'dnc');
    assert.equal(rule?.remarks, 'asked not to be called');
  });
});
