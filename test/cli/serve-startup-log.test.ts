import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { eventually } from '../support/memory-logger.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

/** `callguard serve --roles <roles>` against `redis`, its output collected; stop() ends it and cleans up. */
async function serve(redis: TestRedis, roles: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-startup-'));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--roles', roles], {
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      CALLGUARD_HTTP_PORT: String(await freePort()),
      ESL_LISTEN_PORT: String(await freePort()),
      CALLGUARD_EMBEDDED_REDIS: 'never',
      CALLGUARD_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'auto',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c) => (out.stdout += String(c)));
  child.stderr.on('data', (c) => (out.stderr += String(c)));
  const stop = async () => {
    // with Redis gone the drain waits for it; a second signal ends the process
    const exited =
      child.exitCode === null && child.signalCode === null
        ? new Promise((r) => child.once('exit', r))
        : Promise.resolve();
    child.kill('SIGTERM');
    const again = setTimeout(() => child.kill('SIGINT'), 5_000);
    const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(again);
    clearTimeout(hard);
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { out, stop };
}

/** A private Redis (set up by `prepare`), `serve --roles <roles>` against it, `body`, then both stopped. */
async function withServe(
  roles: string,
  body: (ctx: { redis: TestRedis; out: { stdout: string; stderr: string } }) => Promise<void>,
  prepare: (redis: TestRedis) => Promise<unknown> = async () => {},
): Promise<void> {
  const redis = await startRedis({ private: true });
  await prepare(redis);
  const { out, stop } = await serve(redis, roles);
  try {
    await body({ redis, out });
  } finally {
    await stop();
    await redis.stop();
  }
}

/** The lines of `text` that are not one JSON record. */
const notJson = (text: string): string[] =>
  text.split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });

test.skipIf(skipWithoutLocalRedis)(
  'serve names its roles and its Redis first, and a Redis outage leaves only JSON lines, never a multi-line dump',
  () =>
    withServe('api,worker', async ({ redis, out }) => {
      const url = new URL(redis.url);
      assert.ok(
        await eventually(() => out.stdout.includes('callguard serving'), 180_000),
        out.stdout + out.stderr,
      );
      const first = out.stdout
        .split('\n')
        .slice(0, 2)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(first[0]!.msg, 'callguard starting');
      assert.deepEqual(first[0]!.roles, ['api', 'worker']);
      assert.equal(first[1]!.redis, `redis://127.0.0.1:${url.port}`);
      assert.equal(first[1]!.embedded, false);

      await redis.kill9();
      const before = out.stdout.length;
      // the job queues, the workers, the sync and the webhooks all reconnect for a while
      await new Promise((r) => setTimeout(r, 4000));
      assert.ok(out.stdout.length > before, 'the outage is logged');
      assert.deepEqual(notJson(out.stdout + out.stderr).slice(0, 5), [], 'every line is one JSON record');
    }),
);

test.skipIf(skipWithoutLocalRedis)(
  'under the supervisor (call and admin roles), every line is one JSON record with each field once',
  () =>
    withServe('api,worker,esl', async ({ out }) => {
      // the supervisor's own 'callguard serving' comes once every child is ready
      const ready = () => /"proc":"supervisor".*"msg":"callguard serving"/.test(out.stdout);
      assert.ok(await eventually(ready, 180_000), out.stdout + out.stderr);
      const lines = out.stdout.split('\n').filter((line) => line.trim() !== '');
      assert.deepEqual(notJson(out.stdout + out.stderr), []);
      // A field written twice (a child's bound field repeated by a line) is dropped by JSON.parse, so
      // such a line does not come back the same; strict log readers refuse it outright.
      const twice = lines.filter((line) => JSON.stringify(JSON.parse(line)) !== line);
      assert.deepEqual(twice, []);
      const starting = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.msg === 'callguard starting');
      assert.deepEqual(starting.map((r) => [r.proc, r.roles]).sort(), [
        ['admin', ['api', 'worker']],
        ['call', ['esl']],
      ]);
    }),
);

test.skipIf(skipWithoutLocalRedis)(
  'on a Redis that evicts keys when full, serve warns with the fix, and what a library prints is a JSON line too',
  () =>
    withServe(
      'api,worker',
      async ({ out }) => {
        assert.ok(
          await eventually(() => out.stdout.includes('callguard serving'), 180_000),
          out.stdout + out.stderr,
        );
        assert.deepEqual(notJson(out.stdout + out.stderr), []);
        const records = out.stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as { level: number; msg: string; from?: string });
        const eviction = records.filter((r) => r.msg.startsWith('Redis may evict keys when full'));
        assert.equal(eviction.length, 1, out.stdout);
        assert.equal(eviction[0]!.level, 40);
        assert.match(
          eviction[0]!.msg,
          /maxmemory-policy allkeys-lru.*CONFIG SET maxmemory-policy noeviction/,
        );
        // BullMQ's own console.warn about the same policy, relayed as a record
        assert.ok(
          records.some((r) => r.from === 'console' && r.msg.includes('allkeys-lru')),
          out.stdout,
        );
      },
      (redis) => redis.client().config('SET', 'maxmemory-policy', 'allkeys-lru'),
    ),
);
