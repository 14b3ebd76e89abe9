import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { eventually } from '../support/memory-logger.js';
import { skipWithoutLocalRedis, startRedis } from '../support/redis-server.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

test.skipIf(skipWithoutLocalRedis)(
  'serve names its roles and its Redis first, and a Redis outage leaves only JSON lines, never a multi-line dump',
  async () => {
    const redis = await startRedis({ private: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'cg-startup-'));
    const url = new URL(redis.url);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--roles', 'api,worker'], {
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        CALLGUARD_HTTP_PORT: String(await freePort()),
        CALLGUARD_EMBEDDED_REDIS: 'never',
        CALLGUARD_DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'auto',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    try {
      assert.ok(await eventually(() => stdout.includes('callguard serving'), 180_000), stdout + stderr);
      const first = stdout
        .split('\n')
        .slice(0, 2)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(first[0]!.msg, 'callguard starting');
      assert.deepEqual(first[0]!.roles, ['api', 'worker']);
      assert.equal(first[1]!.redis, `redis://127.0.0.1:${url.port}`);
      assert.equal(first[1]!.embedded, false);

      await redis.kill9();
      const before = stdout.length;
      // the job queues, the workers, the sync and the webhooks all reconnect for a while
      await new Promise((r) => setTimeout(r, 4000));
      assert.ok(stdout.length > before, 'the outage is logged');
      const notJson = [...stdout.split('\n'), ...stderr.split('\n')].filter((line) => {
        if (!line.trim()) return false;
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(notJson.slice(0, 5), [], 'every line is one JSON record');
    } finally {
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
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
