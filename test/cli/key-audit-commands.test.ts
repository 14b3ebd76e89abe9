import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

describe.skipIf(skipWithoutRedis)('callguard key list|revoke and audit tail', () => {
  let h: ApiHarness;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    h = await startApi();
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    env = {
      ...process.env,
      REDIS_URL: h.redis.url,
      CALLGUARD_URL: address,
      CALLGUARD_EMBEDDED_REDIS: 'never',
    };
  });
  afterAll(async () => {
    await h?.stop();
  });

  const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        {
          env: { ...env, ...extra },
          timeout: 60_000,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('creates a key with an expiry, lists it with its last use, revokes it, and records both', async () => {
    const t = await h.tenant('cli');
    const created = await cli([
      'key',
      'create',
      '--tenant',
      t.id,
      '--role',
      'agent',
      '--ous',
      'east',
      '--name',
      'night shift',
      '--expires',
      '2099-01-01T00:00:00Z',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const { key, record } = JSON.parse(created.stdout);
    assert.equal((await h.call('GET', '/v1/rules', key)).statusCode, 200);

    const listed = await cli(['key', 'list', '--tenant', t.id, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; expiresAt?: number; lastUsedAt?: number }>;
    const mine = keys.find((k) => k.id === record.id)!;
    assert.equal(mine.expiresAt, Date.parse('2099-01-01T00:00:00Z'));
    assert.ok(mine.lastUsedAt !== undefined, 'its use is listed');
    assert.ok(!listed.stdout.includes(key), 'the key itself is never listed');
    const table = await cli(['key', 'list', '--tenant', t.id]);
    assert.match(
      table.stdout,
      new RegExp(`${record.id}\\tagent\\tnight shift\\texpires=2099-01-01T00:00:00.000Z`),
    );

    const revoked = await cli(['key', 'revoke', record.id, '--tenant', t.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await new Promise((r) => setTimeout(r, 5_200)); // the API's key cache holds a verified key for 5 s
    assert.equal((await h.call('GET', '/v1/rules', key)).statusCode, 401);
    const again = await cli(['key', 'revoke', record.id, '--tenant', t.id]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /does not exist/);
    const bad = await cli(['key', 'create', '--tenant', t.id, '--expires', 'tomorrow']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--expires: an ISO 8601 date and time/);

    const tail = await cli(['audit', 'tail', '--kind', 'key', '--json'], { CALLGUARD_API_KEY: t.admin });
    assert.equal(tail.code, 0, tail.stderr);
    const entries = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      entries.map((e) => [e.action, e.target, e.actor.keyId]),
      [
        ['create', record.id, 'system'],
        ['delete', record.id, 'system'],
      ],
    );
  });

  it('audit tail --follow prints each new change once, as it is made', async () => {
    const t = await h.tenant('follow');
    await h.call('PUT', '/v1/groups/g0', t.admin, { name: 'zero' });
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'audit', 'tail', '--follow', '--interval', '200'],
      { env: { ...env, CALLGUARD_API_KEY: t.admin }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d) => {
      output += String(d);
    });
    const lines = () => output.trim().split('\n').filter(Boolean);
    try {
      for (let i = 0; i < 300 && lines().length < 1; i++) await new Promise((r) => setTimeout(r, 50));
      for (let i = 1; i <= 3; i++) await h.call('PUT', `/v1/groups/g${i}`, t.admin, { name: `n${i}` });
      for (let i = 0; i < 300 && lines().length < 4; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(
        lines().map((l) => l.split('  ').slice(2, 4).join(' ')),
        ['group.create g0', 'group.create g1', 'group.create g2', 'group.create g3'],
      );
      assert.match(lines()[1]!, /name: - -> "n1"/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
