import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipWithoutRedis)('the CLI commands an operator reaches for', () => {
  let redis: TestRedis;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let server: ChildProcess;
  let output = '';

  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        {
          env: { ...env, ...extraEnv },
          timeout: 120_000,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'cg-cli-'));
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
    server = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--roles', 'api'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (c) => (output += c));
    server.stderr?.on('data', (c) => (output += c));
    for (let i = 0; i < 1200; i++) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await sleep(100);
    }
    throw new Error(`serve did not come up: ${output}`);
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tenant list shows a created tenant; rules get and rules update change only what is given', async () => {
    const tenant = redis.tenant('ops');
    const created = await cli(['tenant', 'create', tenant, '--name', 'Ops Inc', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout).key as string;

    const listed = await cli(['tenant', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const tenants = JSON.parse(listed.stdout) as Array<{ id: string; name: string }>;
    assert.equal(tenants.find((t) => t.id === tenant)?.name, 'Ops Inc');
    const noRedis = await cli(['tenant', 'list'], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    assert.equal(noRedis.code, 1);
    assert.match(
      noRedis.stderr,
      /cannot reach Redis at .*; the embedded Redis runs only while callguard serve runs/,
    );
    const plain = await cli(['tenant', 'list']);
    assert.match(plain.stdout, new RegExp(`^${tenant}\\tOps Inc\\t`, 'm'));

    const withKey = { CALLGUARD_API_KEY: key };
    const add = await cli(
      ['rules', 'add', '--called', '_3712!', '--direction', 'inbound', '--remarks', 'latvia', '--json'],
      withKey,
    );
    assert.equal(add.code, 0, add.stderr);
    const id = JSON.parse(add.stdout).rule.id as number;

    const got = await cli(['rules', 'get', String(id), '--json'], withKey);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).called, '_3712!');

    const updated = await cli(
      ['rules', 'update', String(id), '--action', 'allow', '--unset', 'remarks', '--json'],
      withKey,
    );
    assert.equal(updated.code, 0, updated.stderr);
    const after = await cli(['rules', 'get', String(id), '--json'], withKey);
    const rule = JSON.parse(after.stdout) as Record<string, unknown>;
    assert.equal(rule.action, 'allow', 'the option given changed');
    assert.equal(rule.direction, 'inbound', 'the fields not given were kept');
    assert.equal(rule.called, '_3712!');
    assert.equal(rule.remarks, undefined, '--unset cleared the remarks');

    const missing = await cli(['rules', 'get', '999999', '--json'], withKey);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CG_ERR_NOT_FOUND: rule 999999 does not exist/);
    const badUnset = await cli(['rules', 'update', String(id), '--unset', 'direction'], withKey);
    assert.equal(badUnset.code, 2);
    assert.match(badUnset.stderr, /--unset: "direction" cannot be cleared/);
  });

  it('a bad setting in the environment is one line naming it and what is accepted, for any command', async () => {
    for (const args of [
      ['rules', 'list'],
      ['tenant', 'list'],
      ['serve', '--roles', 'api'],
    ]) {
      const { code, stdout, stderr } = await cli(args, { CALLGUARD_HTTP_PORT: 'abc' });
      assert.equal(code, 2, args.join(' '));
      assert.equal(stdout, '');
      assert.equal(
        stderr,
        'callguard: invalid setting CALLGUARD_HTTP_PORT="abc": a port number from 1 to 65535\n',
      );
    }
  });

  it('completion bash prints a script that completes the command tree in bash', async () => {
    const printed = await cli(['completion', 'bash']);
    assert.equal(printed.code, 0, printed.stderr);
    const script = join(dataDir, 'callguard.bash');
    writeFileSync(script, printed.stdout);
    const complete = async (...words: string[]) => {
      const { stdout } = await promisify(execFile)('bash', [
        '-c',
        `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _callguard_complete; echo "\${COMPREPLY[@]}"`,
      ]);
      return stdout.trim().split(' ');
    };
    assert.deepEqual(await complete('callguard', 'ru'), ['rules']);
    assert.deepEqual((await complete('callguard', 'rules', '')).slice(0, 5), [
      'add',
      'list',
      'get',
      'update',
      'rm',
    ]);
    assert.deepEqual(await complete('callguard', 'rules', 'update', '--un'), ['--unset']);
    assert.deepEqual(await complete('callguard', 'tenant', 'l'), ['list']);
    assert.deepEqual(await complete('callguard', 'completion', ''), ['bash', 'zsh', '--help']);
    const zsh = await cli(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef callguard/);
    const fish = await cli(['completion', 'fish']);
    assert.equal(fish.code, 2);
    assert.match(fish.stderr, /Allowed choices are bash, zsh/);
  });
});
