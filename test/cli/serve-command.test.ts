import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipWithoutRedis)('callguard serve and the online CLI', () => {
  let redis: TestRedis;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'cg-serve-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      CALLGUARD_HTTP_PORT: String(port),
      CALLGUARD_EMBEDDED_REDIS: 'never',
      CALLGUARD_DATA_DIR: dataDir,
      CALLGUARD_URL: base,
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        {
          env: { ...env, ...extraEnv },
          timeout: 60_000,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('serves --roles api, answers /healthz and /readyz, drives the CLI, and exits 0 on SIGTERM', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'serve', '--roles', 'api'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let healthy = false;
      for (let i = 0; i < 300 && !healthy; i++) {
        try {
          healthy = (await fetch(`${base}/healthz`)).status === 200;
        } catch {
          await sleep(100);
        }
      }
      assert.ok(healthy, `serve did not come up: ${output}`);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { redis: boolean }).redis, true);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /callguard_http_request_seconds/);
      const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: object };
      assert.ok('/v1/rules' in openapi.paths);

      const tenant = redis.tenant('cli');
      const created = await cli(['tenant', 'create', tenant, '--json']);
      assert.equal(created.code, 0, created.stderr);
      const key = JSON.parse(created.stdout).key as string;
      const withKey = { CALLGUARD_API_KEY: key };
      const add = await cli(
        ['rules', 'add', '--called', '_1404!', '--direction', 'outbound', '--json'],
        withKey,
      );
      assert.equal(add.code, 0, add.stderr);
      const id = JSON.parse(add.stdout).rule.id as number;
      const list = await cli(
        ['rules', 'list', '--number', '14045266123', '--match', 'matching', '--json'],
        withKey,
      );
      assert.deepEqual(
        JSON.parse(list.stdout).items.map((r: { id: number }) => r.id),
        [id],
      );
      const check = await cli(
        ['check', '--called', '14045266123', '--direction', 'outbound', '--json'],
        withKey,
      );
      assert.equal(check.code, 0, check.stderr);
      assert.equal(JSON.parse(check.stdout).action, 'block');
      const agent = await cli(['key', 'create', '--tenant', tenant, '--role', 'agent', '--json']);
      const agentKey = JSON.parse(agent.stdout).key as string;
      const refused = await cli(['rules', 'add', '--called', '1', '--key', agentKey]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /CG_ERR_FORBIDDEN.*rules:create/);
      const rm = await cli(['rules', 'rm', String(id)], withKey);
      assert.equal(rm.code, 0, rm.stderr);
      const after = await cli(
        ['check', '--called', '14045266123', '--direction', 'outbound', '--json'],
        withKey,
      );
      assert.equal(JSON.parse(after.stdout).action, 'allow');
      const noKey = await cli(['rules', 'list']);
      assert.equal(noKey.code, 2);
      assert.match(noKey.stderr, /--key|CALLGUARD_API_KEY/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });

  it('keeps the offline check working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-offline-'));
    try {
      const { writeFileSync } = await import('node:fs');
      const rules = join(dir, 'rules.csv');
      writeFileSync(rules, 'called,direction,action\n_1404!,outbound,block\n');
      const res = await cli([
        'check',
        '--rules',
        rules,
        '--called',
        '14045266123',
        '--direction',
        'outbound',
        '--json',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).action, 'block');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
