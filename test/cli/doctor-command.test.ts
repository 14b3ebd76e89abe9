import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { AriDouble } from '../pbx/asterisk/ari-double.js';
import { FreeswitchInboundDouble } from '../pbx/freeswitch/esl-inbound-double.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

const BIN = join(import.meta.dirname, '../../bin/callguard.js');

/** Runs the real CLI against real peers; returns its exit code and JSON result lines. */
function doctor(env: Record<string, string>, roles = 'api,ari,esl') {
  return new Promise<{
    code: number | null;
    results: Array<{ check: string; status: string; detail: string; fix?: string }>;
  }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'doctor', '--json', '--roles', roles], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.on('close', (code) =>
      resolve({
        code,
        results: stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      }),
    );
  });
}

let redis: TestRedis;
let ari: AriDouble;
let esl: FreeswitchInboundDouble;
let base: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis({ private: true });
  ari = new AriDouble({ username: 'cg', password: 'secret' });
  const ariUrl = await ari.start();
  esl = new FreeswitchInboundDouble({ password: 'ClueCon2' });
  const eslPort = await esl.listen();
  base = {
    REDIS_URL: redis.url,
    ARI_URL: ariUrl,
    ARI_USERNAME: 'cg',
    ARI_PASSWORD: 'secret',
    ESL_PORT: String(eslPort),
    ESL_PASSWORD: 'ClueCon2',
    ESL_MODE: 'both',
    ESL_LISTEN_PORT: String(await freePort()),
    CALLGUARD_HTTP_PORT: String(await freePort()),
    CALLGUARD_SYSTEM_KEY: 'a-system-key-of-some-length',
  };
});
afterAll(async () => {
  await ari?.stop();
  await esl?.close();
  await redis?.stop();
});

describe('callguard doctor', () => {
  it('passes when Redis (with AOF), Asterisk and FreeSWITCH answer with the configured credentials', async () => {
    const { code, results } = await doctor(base);
    assert.equal(code, 0, JSON.stringify(results));
    const byCheck = Object.fromEntries(results.map((r) => [r.check, r.status]));
    assert.equal(byCheck.redis, 'ok');
    assert.equal(byCheck['redis persistence'], 'ok');
    assert.equal(byCheck['asterisk ari'], 'ok');
    assert.equal(byCheck['freeswitch esl'], 'ok');
  });

  it('names wrong ARI and ESL credentials and how to fix them, and exits non-zero', async () => {
    const { code, results } = await doctor({ ...base, ARI_PASSWORD: 'nope', ESL_PASSWORD: 'nope' });
    assert.equal(code, 1);
    const ariResult = results.find((r) => r.check === 'asterisk ari');
    assert.equal(ariResult?.status, 'fail');
    assert.match(ariResult?.detail ?? '', /refused user cg \(401\)/);
    assert.match(ariResult?.fix ?? '', /ARI_USERNAME \/ ARI_PASSWORD/);
    const eslResult = results.find((r) => r.check === 'freeswitch esl');
    assert.equal(eslResult?.status, 'fail');
    assert.match(eslResult?.fix ?? '', /ESL_PASSWORD/);
  });

  it('checks only the roles asked for, and reports an unreachable Redis', async () => {
    const { code, results } = await doctor({ ...base, REDIS_URL: 'redis://10.255.255.1:6390' }, 'api');
    assert.equal(code, 1);
    assert.deepEqual(
      results.map((r) => r.check),
      ['config', 'redis', 'api port'],
    );
    assert.match(results[1].detail, /cannot reach redis:\/\/10\.255\.255\.1:6390/);
  });

  it('on a default install (outbound ESL, no Asterisk) checks only what the roles use and exits 0', async () => {
    const { ESL_MODE: _, ARI_URL: __, ...defaults } = base;
    const absentAri = `http://127.0.0.1:${await freePort()}`;
    const { code, results } = await doctor({ ...defaults, ARI_URL: absentAri }, 'api,ari,esl,worker');
    assert.equal(code, 0, JSON.stringify(results));
    const checks = results.map((r) => r.check);
    assert.ok(!checks.includes('freeswitch esl'), 'the inbound event socket is not checked in outbound mode');
    assert.ok(checks.includes('esl outbound socket'));
    const ariResult = results.find((r) => r.check === 'asterisk ari');
    assert.equal(ariResult?.status, 'warn');
    assert.match(ariResult?.detail ?? '', /waits for Asterisk and retries/);
  });

  it("asks a running callguard's /healthz instead of reporting its ports as a problem", async () => {
    const port = Number(base.CALLGUARD_HTTP_PORT);
    const running = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((r) => running.listen(port, '127.0.0.1', r));
    try {
      const { code, results } = await doctor(base, 'api');
      assert.equal(code, 0, JSON.stringify(results));
      const api = results.find((r) => r.check === 'api port');
      assert.equal(api?.status, 'ok');
      assert.match(api?.detail ?? '', /served by a running callguard/);
    } finally {
      await new Promise((r) => running.close(r));
    }
    // the same port held by something that is not callguard: a failure the server would hit
    const other = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => other.listen(port, '127.0.0.1', r));
    try {
      const { code, results } = await doctor(base, 'api');
      assert.equal(code, 1);
      assert.equal(results.find((r) => r.check === 'api port')?.status, 'fail');
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('warns when Redis encoding limits are below what callguard sizes its storage for', async () => {
    const client = redis.client();
    await client.config('SET', 'hash-max-listpack-value', '64');
    try {
      const { results } = await doctor(base, 'worker');
      const enc = results.find((r) => r.check === 'redis encoding');
      assert.equal(enc?.status, 'warn');
      assert.match(enc?.detail ?? '', /hash-max-listpack-value 64 \(want 512\)/);
    } finally {
      await client.config('SET', 'hash-max-listpack-value', '512');
    }
  });

  it('tells a Redis that keeps nothing (no AOF, no RDB saves) from one that keeps snapshots, as serve does', async () => {
    const client = redis.client();
    const [, save] = (await client.config('GET', 'save')) as string[];
    const [, fsync] = (await client.config('GET', 'appendfsync')) as string[];
    try {
      await client.config('SET', 'appendonly', 'no');
      await client.config('SET', 'save', '');
      const none = (await doctor(base, 'worker')).results.find((r) => r.check === 'redis persistence');
      assert.equal(none?.status, 'warn');
      assert.equal(none?.detail, 'Redis has no persistence at all: every rule is lost if Redis restarts');
      assert.match(none?.fix ?? '', /appendonly yes/);
      await client.config('SET', 'save', '3600 1');
      const rdb = (await doctor(base, 'worker')).results.find((r) => r.check === 'redis persistence');
      assert.equal(
        rdb?.detail,
        'Redis AOF is off: rule writes since the last RDB save are lost if Redis restarts',
      );
      await client.config('SET', 'appendonly', 'yes');
      await client.config('SET', 'appendfsync', 'no');
      const lazy = (await doctor(base, 'worker')).results.find((r) => r.check === 'redis persistence');
      assert.equal(lazy?.status, 'warn');
      assert.equal(
        lazy?.detail,
        'Redis AOF is not fsynced (appendfsync no): recent rule writes can be lost on a crash',
      );
    } finally {
      await client.config('SET', 'appendonly', 'yes');
      await client.config('SET', 'appendfsync', fsync ?? 'always');
      await client.config('SET', 'save', save ?? '');
    }
  });

  it('reports a bad setting by name instead of starting', async () => {
    const { code, results } = await doctor({ ...base, CALLGUARD_HTTP_PORT: 'eighty' });
    assert.equal(code, 1);
    assert.equal(results[0].check, 'config');
    assert.match(results[0].detail, /CALLGUARD_HTTP_PORT="eighty"/);
  });
});
