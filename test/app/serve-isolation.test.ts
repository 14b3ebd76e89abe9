import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../../src/store/redis-process.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { AriDouble, type DoubleCall } from '../pbx/asterisk/ari-double.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { alive, ServeProcess } from './serve-process.js';

const BLOCKED = '14045550001';
const ALLOWED = '15550001';

/**
 * `callguard serve` with all four roles: the call roles run in a process of their own under the
 * supervisor, so killing the API/worker process must not cost a single call.
 */
describe.skipIf(skipWithoutRedis)('callguard serve: the call process is isolated', () => {
  let redis: TestRedis;
  let dataDir: string;
  let ari: AriDouble;
  let serve: ServeProcess;
  let tenant: string;
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'cg-iso-'));
    const client = redis.client();
    tenant = redis.tenant('iso');
    await new TenantRepository(client).create(tenant);
    await new RuleRepository(client).create(tenant, { called: '_1404!', direction: 'both', action: 'block' });
    ari = new AriDouble();
    const ariUrl = await ari.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    serve = new ServeProcess([], {
      ...process.env,
      REDIS_URL: redis.url,
      CALLGUARD_EMBEDDED_REDIS: 'never',
      CALLGUARD_DATA_DIR: dataDir,
      CALLGUARD_HTTP_PORT: String(port),
      ESL_LISTEN_PORT: String(await freePort()),
      ARI_URL: ariUrl,
      ARI_USERNAME: 'test',
      ARI_PASSWORD: 'test',
      LOG_LEVEL: 'info',
    });
    await serve.waitFor((l) => l.proc === 'supervisor' && l.msg === 'callguard serving', 120_000);
    await ari.waitForApp(30_000);
  });
  afterAll(async () => {
    await serve?.stop();
    await ari?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const place = (called: string) =>
    ari.placeCall({ called, calling: '201', args: ['outbound'], variables: { CALLGUARD_TENANT: tenant } });
  const result = (c: DoubleCall) => new Map(c.setVariables).get('CALLGUARD_RESULT');

  it('keeps screening every call while the api/worker process is killed, and restarts that process', async () => {
    const [callPid] = serve.childPids('call');
    const [adminPid] = serve.childPids('admin');
    assert.ok(callPid && adminPid, serve.tail());
    const calls: Array<{ called: string; call: DoubleCall | undefined }> = [];
    let placing = true;
    const placer = (async () => {
      for (let i = 0; placing && i < 2_000; i++) {
        const called = i % 2 === 0 ? BLOCKED : ALLOWED;
        calls.push({ called, call: place(called) });
        await sleep(50);
      }
    })();
    await sleep(1_000);
    const from = serve.lines.length;
    process.kill(adminPid, 'SIGKILL');
    await serve.waitFor(
      (l) => l.proc === 'supervisor' && l.msg === 'process exited unexpectedly; restarting it',
      10_000,
      from,
    );
    await serve.waitFor(
      (l) => l.proc === 'supervisor' && l.msg === 'process ready' && l.child === 'admin',
      120_000,
      from,
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    await sleep(1_000);
    placing = false;
    await placer;
    await Promise.race([Promise.all(calls.map((c) => c.call?.done)), sleep(10_000)]);

    assert.ok(calls.length >= 40, `only ${calls.length} calls placed`);
    const unplaced = calls.filter((c) => !c.call).length;
    assert.equal(unplaced, 0, 'Stasis() failed for some calls: the call process lost its ARI connection');
    const undecided = calls.filter((c) => c.call!.end === undefined);
    assert.equal(undecided.length, 0, `${undecided.length} of ${calls.length} calls left undecided`);
    for (const { called, call } of calls) {
      assert.equal(result(call!), called === BLOCKED ? 'block' : 'allow', `call to ${called}`);
    }
    assert.deepEqual(serve.childPids('call'), [callPid], 'the call process was never restarted');
    assert.ok(alive(callPid));
    const restarted = serve.childPids('admin');
    assert.equal(restarted.length, 2);
    assert.notEqual(restarted[1], adminPid);
  });

  it('writes one log stream in which every line is JSON naming its process and roles', () => {
    const notJson = serve.lines.filter((l) => 'notJson' in l);
    assert.deepEqual(notJson, []);
    assert.deepEqual(
      serve.lines.filter((l) => typeof l.proc !== 'string'),
      [],
    );
    const procs = new Set(serve.lines.map((l) => l.proc));
    assert.deepEqual([...procs].sort(), ['admin', 'call', 'supervisor']);
    for (const l of serve.lines.filter((x) => x.proc === 'call')) assert.deepEqual(l.roles, ['ari', 'esl']);
    for (const l of serve.lines.filter((x) => x.proc === 'admin'))
      assert.deepEqual(l.roles, ['api', 'worker']);
    const crash = serve.lines.find((l) => l.msg === 'process exited unexpectedly; restarting it');
    assert.equal(crash?.signal, 'SIGKILL');
    assert.equal(crash?.child, 'admin');
  });

  it("shows the call process's decisions and event-loop delay on the API's /metrics", async () => {
    const body = await (await fetch(`${base}/metrics`)).text();
    const ariBlocks = body
      .split('\n')
      .find(
        (l) => /^callguard_decisions_total\{/.test(l) && /action="block"/.test(l) && /source="ari"/.test(l),
      );
    assert.ok(ariBlocks, body);
    assert.match(ariBlocks, /proc="call"/);
    assert.ok(Number(ariBlocks.split(' ').pop()) >= 20, ariBlocks);
    assert.match(body, /callguard_event_loop_delay_seconds\{stat="p99",proc="call"\} [0-9.e-]+/);
    // The API's own series are still there, unlabelled.
    assert.match(body, /callguard_http_request_seconds_bucket\{[^}]*le=/);
  });

  it('stops the supervisor and every child within 10 s of SIGTERM', async () => {
    const pids = [
      serve.child.pid!,
      ...serve.childPids('call').slice(-1),
      ...serve.childPids('admin').slice(-1),
    ];
    assert.ok(pids.every(alive));
    const started = Date.now();
    serve.child.kill('SIGTERM');
    while (pids.some(alive) && Date.now() - started < 20_000) await sleep(50);
    const took = Date.now() - started;
    assert.deepEqual(pids.filter(alive), [], 'processes left after 20 s');
    assert.ok(took <= 10_000, `took ${took} ms`);
    assert.equal((await serve.exited).code, 0, serve.tail());
  });
});
