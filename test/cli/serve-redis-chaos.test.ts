import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ApiKeyRepository } from '../../src/store/api-key-repository.js';
import { freePort } from '../../src/store/redis-process.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { AriDouble, type DoubleCall } from '../pbx/asterisk/ari-double.js';
import { paceCalls } from '../pbx/load-pacing.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { type ServeChild, spawnServe, timedRequest } from './serve-support.js';

const STORE = { streamMaxLen: 10_000, snapshotEvery: 1_000 };
const RATE = 50;
const SECONDS = 60;
const KILL_AT_MS = 10_000;
const OUTAGE_MS = 30_000;
const API_EVERY_MS = 3_000;

type Sample = Awaited<ReturnType<typeof timedRequest>> & { what: string; at: number; redisDown: boolean };

/**
 * Chaos: `callguard serve` (every role, started through the CLI entry) screens calls from the ARI
 * double at 50 calls/s while its Redis (AOF on) is killed with -9 for 30 s under API traffic.
 */
describe.skipIf(skipWithoutLocalRedis)('callguard serve through a Redis outage', () => {
  let redis: TestRedis;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let tenant: string;
  let admin: string;
  const double = new AriDouble();
  /** A well-formed key of the tenant that was never created (a malformed one is refused without Redis). */
  const unknownKey = () =>
    `${admin.slice(0, admin.lastIndexOf('.') + 1)}${randomBytes(32).toString('base64url')}`;

  beforeAll(async () => {
    redis = await startRedis({ private: true });
    dataDir = mkdtempSync(join(tmpdir(), 'cg-chaos-'));
    const client = redis.client();
    tenant = redis.tenant('chaos');
    await new TenantRepository(client, STORE).create(tenant);
    admin = (await new ApiKeyRepository(client).create(tenant, { role: 'tenant_admin' })).key;
    await new RuleRepository(client, STORE).create(tenant, {
      called: '_1404!',
      direction: 'outbound',
      action: 'block',
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      REDIS_URL: redis.url,
      CALLGUARD_HTTP_PORT: String(port),
      CALLGUARD_EMBEDDED_REDIS: 'never',
      CALLGUARD_DATA_DIR: dataDir,
      CALLGUARD_SYSTEM_KEY: 'system-key-for-chaos-0123456789',
      ARI_URL: await double.start(),
      ARI_USERNAME: 'test',
      ARI_PASSWORD: 'test',
      ESL_LISTEN_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await double.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('decides every call, answers the API from memory or with a fast 503, keeps every acknowledged write', async () => {
    const serve: ServeChild = spawnServe([], env);
    try {
      await serve.healthy(base);
      await double.waitForApp(30_000);

      const calls: Array<{ call: DoubleCall | undefined; blocked: boolean }> = [];
      const samples: Sample[] = [];
      let redisDown = false;
      const started = performance.now();
      const chaos = (async () => {
        await sleep(KILL_AT_MS);
        await redis.kill9();
        redisDown = true;
        await sleep(OUTAGE_MS);
        await redis.restart();
        redisDown = false;
      })();
      let apiRunning = true;
      let n = 0;
      const api = (async () => {
        while (apiRunning) {
          const down = redisDown;
          const at = performance.now() - started;
          const record = (what: string, r: Awaited<ReturnType<typeof timedRequest>>) =>
            samples.push({ ...r, what, at, redisDown: down && redisDown });
          n++;
          const [write, read, check, stranger] = await Promise.all([
            timedRequest(base, 'POST', '/v1/rules', admin, {
              called: `1999555${String(n).padStart(4, '0')}`,
              direction: 'inbound',
              remarks: `chaos ${n}`,
            }),
            timedRequest(base, 'GET', '/v1/rules?limit=5', admin),
            timedRequest(base, 'POST', '/v1/check', admin, { called: '14045550000', direction: 'outbound' }),
            timedRequest(base, 'POST', '/v1/check', unknownKey(), {
              called: '14045550000',
              direction: 'outbound',
            }),
          ]);
          record('write', write);
          record('read', read);
          record('check', check);
          record('stranger', stranger);
          await sleep(API_EVERY_MS);
        }
      })();
      await paceCalls({ rate: RATE, seconds: SECONDS }, (i) => {
        const blocked = i % 2 === 0;
        const call = double.placeCall({
          called: blocked ? `1404555${String(i % 10_000).padStart(4, '0')}` : `1312555${i % 10_000}`,
          calling: '201',
          args: ['outbound'],
          variables: { CALLGUARD_TENANT: tenant },
        });
        calls.push({ call, blocked });
      });
      apiRunning = false;
      await chaos;
      await api;
      await Promise.all(calls.map((c) => (c.call ? Promise.race([c.call.done, sleep(5_000)]) : undefined)));

      assert.ok(serve.alive, `the process exited during the outage: ${serve.output().slice(-4000)}`);
      const notPlaced = calls.filter((c) => !c.call).length;
      const undecided = calls.filter((c) => c.call && c.call.end === undefined).length;
      const wrong = calls.filter(
        (c) => c.call?.end !== undefined && c.call.end !== (c.blocked ? 'hangup' : 'continue'),
      ).length;
      assert.deepEqual(
        { placed: calls.length - notPlaced, notPlaced, undecided, wrong },
        { placed: RATE * SECONDS, notPlaced: 0, undecided: 0, wrong: 0 },
      );

      const during = samples.filter((s) => s.redisDown);
      const worst = (what: string) =>
        Math.round(Math.max(0, ...during.filter((s) => s.what === what).map((s) => s.ms)));
      process.stderr.write(
        `during the outage: ${during.length} API requests; slowest check ${worst('check')} ms, write ${worst('write')} ms, read ${worst('read')} ms, unknown key ${worst('stranger')} ms\n`,
      );
      assert.ok(during.length >= 20, `API traffic during the outage: ${during.length} requests`);
      for (const s of during) {
        if (s.what === 'check') {
          assert.equal(s.status, 200, `check from memory at ${Math.round(s.at)} ms: ${JSON.stringify(s)}`);
          assert.equal(s.body.action, 'block');
        } else {
          // writes, reads and unknown keys: a 503 that says why, well within a second or so
          assert.equal(s.status, 503, `${s.what} during the outage: ${JSON.stringify(s)}`);
          assert.equal(s.body.code, 'CG_ERR_UNAVAILABLE');
        }
        assert.ok(s.ms < 1_500, `${s.what} took ${Math.round(s.ms)} ms during the outage`);
      }

      // Back: it resumes by itself, and every write that was acknowledged is there.
      let ready = await timedRequest(base, 'GET', '/readyz', undefined);
      for (let i = 0; i < 300 && ready.status !== 200; i++) {
        await sleep(100);
        ready = await timedRequest(base, 'GET', '/readyz', undefined);
      }
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      const acknowledged = samples
        .filter((s) => s.what === 'write' && s.status === 201)
        .map((s) => (s.body.rule as { id: number }).id);
      assert.ok(acknowledged.length >= 3);
      for (const id of acknowledged) {
        const got = await timedRequest(base, 'GET', `/v1/rules/${id}`, admin);
        assert.equal(got.status, 200, `acknowledged rule ${id} is missing after the outage`);
      }
      const write = await timedRequest(base, 'POST', '/v1/rules', admin, { called: '19995550000' });
      assert.equal(write.status, 201, JSON.stringify(write.body));
      const check = await timedRequest(base, 'POST', '/v1/check', admin, {
        called: '19995550000',
        direction: 'inbound',
      });
      assert.equal(check.status, 200);
      assert.ok(serve.alive, serve.output().slice(-4000));
    } finally {
      serve.child.kill('SIGTERM');
      const code = await Promise.race([serve.exited, sleep(15_000).then(() => 'hung')]);
      if (code === 'hung') serve.child.kill('SIGKILL');
      assert.equal(code, 0, serve.output().slice(-4000));
    }
  });

  it('exits within 10 s of SIGTERM while Redis is unreachable', async () => {
    const serve = spawnServe([], env);
    try {
      await serve.healthy(base);
      await double.waitForApp(30_000);
      await redis.kill9();
      await sleep(3_000);
      assert.ok(serve.alive, serve.output().slice(-4000));
      const signalled = performance.now();
      serve.child.kill('SIGTERM');
      const code = await Promise.race([serve.exited, sleep(20_000).then(() => 'hung')]);
      const tookMs = performance.now() - signalled;
      assert.notEqual(code, 'hung', `no exit 20 s after SIGTERM: ${serve.output().slice(-4000)}`);
      process.stderr.write(`SIGTERM with Redis down: exit code ${code} after ${Math.round(tookMs)} ms\n`);
      assert.ok(tookMs < 10_000, `exit took ${Math.round(tookMs)} ms`);
    } finally {
      if (serve.alive) serve.child.kill('SIGKILL');
      await redis.restart();
    }
  });
});
