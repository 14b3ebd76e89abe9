/**
 * The call process's event-loop delay while heavy work runs elsewhere in `callguard serve`
 * (supervised: call roles in their own process). Phases, each measured from inside the call process
 * (perf_hooks monitorEventLoopDelay, read through the API's /metrics with `proc="call"`):
 *   baseline  nothing running but the ARI calls;
 *   snapshot  a compiled snapshot of --rules rules (default 10,000,000) replaces the tenant's: the
 *             call process reads, checks and swaps it exactly as after a rebuild on another node;
 *   screen    --screens requests of /v1/screen with 100,000 numbers each, one after another;
 *   import    a --rows-row CSV (default 2,000,000) imported from an SFTP file server, then the real
 *             snapshot rebuild (worker thread of the admin process) and the call process's reload.
 * Calls are placed from the ARI double at 20/s throughout; every one must be decided.
 * `--single-process` runs the same with every role in one process (no isolation), for comparison.
 * `--screens 0` / `--rows 0` skip those phases; `--swaps N` repeats the snapshot phase N times (a
 * probe of the swap alone: `--rules 10000000 --rows 0 --screens 0 --swaps 5`). Each snapshot phase
 * window runs on --settle-seconds (default 3) after the swap, so that collecting the old index counts
 * too.
 * Every phase prints the CPU time of the call process's main thread (Linux /proc), and each swap the
 * call process's own account of adopting the snapshot: `swapBusyMs` (wall time of its loop's slices),
 * `swapCpuMs` (CPU time the process used meanwhile: not inflated by waiting for a core).
 * Each swap's snapshot has strings (prefixes, scope values) of its own, none of which the call process
 * holds (the worst case); `--same-strings` stores the same snapshot every time (a rebuild of unchanged
 * rules: the call process reuses every string it holds).
 * `--cpu-prof-dir DIR` has every callguard process write a V8 CPU profile into DIR when it exits;
 * `--node-flag FLAG` (repeatable) passes FLAG to node in every callguard process.
 * Prints one JSON object per line.
 * `npm run bench -- isolation [--rules N] [--rows N] [--screens N] [--swaps N] [--baseline-seconds N]
 *  [--settle-seconds N] [--same-strings] [--single-process] [--cpu-prof-dir DIR] [--node-flag FLAG]...`
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { RuleIndex } from '../src/engine/rule-index.js';
import { encodeSnapshot } from '../src/engine/snapshot-codec.js';
import { createBulkJobs } from '../src/jobs/bulk-jobs.js';
import { silentLogger } from '../src/log.js';
import { ApiKeyRepository } from '../src/store/api-key-repository.js';
import { CatalogRepository } from '../src/store/catalog-repository.js';
import { tenantKeys } from '../src/store/keys.js';
import { createRedisClient } from '../src/store/redis-client.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { RuleRepository } from '../src/store/rule-repository.js';
import { SnapshotStore } from '../src/store/snapshot-store.js';
import { TenantRepository } from '../src/store/tenant-repository.js';
import { ServeProcess } from '../test/app/serve-process.js';
import { startSftp } from '../test/jobs/support/sftp-server.js';
import { AriDouble, type DoubleCall } from '../test/pbx/asterisk/ari-double.js';
import { syntheticRules, TASKS } from './synthetic-rules.js';

const SECRET = 'bench-secret-key-0123456789';
const STORE = { streamMaxLen: 100_000, snapshotEvery: 10_000 };
const argOf = (args: string[], name: string, dflt: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : dflt;
};

/** `callguard_event_loop_delay_seconds` of one process from a /metrics body, in ms. */
function loopDelay(body: string, proc: 'call' | 'admin' | 'all') {
  const stat = (s: string) => {
    const line = body
      .split('\n')
      .find(
        (l) =>
          l.startsWith(`callguard_event_loop_delay_seconds{stat="${s}"`) &&
          (proc === 'call' ? l.includes('proc="call"') : !l.includes('proc=')),
      );
    return line ? Number((Number(line.split(' ').pop()) * 1000).toFixed(2)) : Number.NaN;
  };
  return { p50Ms: stat('p50'), p99Ms: stat('p99'), maxMs: stat('max') };
}

/**
 * CPU time (ms) the main thread of process `pid` (its event loop, with the collector's work there)
 * has used so far, from Linux's /proc at 10 ms granularity; NaN elsewhere. Unlike the loop's delay,
 * it does not grow when the machine is busy and the process waits for a core.
 */
function mainThreadCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of stat) in clock ticks of 10 ms (CLK_TCK 100).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('called,direction,action,group,remarks\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `${16_000_000_000 + i * 3},outbound,block,dnc,bench ${i % 100}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

export async function run(args: string[]): Promise<void> {
  const ruleCount = argOf(args, '--rules', 10_000_000);
  const rows = argOf(args, '--rows', 2_000_000);
  const screens = argOf(args, '--screens', 5);
  const swaps = argOf(args, '--swaps', 1);
  const settleSeconds = argOf(args, '--settle-seconds', 3);
  const sameStrings = args.includes('--same-strings');
  const baselineSeconds = argOf(args, '--baseline-seconds', 15);
  const single = args.includes('--single-process');
  // Each callguard process writes a V8 CPU profile there when it exits (where the loop's time went).
  const cpuProfDir = args.includes('--cpu-prof-dir') ? args[args.indexOf('--cpu-prof-dir') + 1] : undefined;
  // Flags for node in every callguard process (`--node-flag --trace-gc`), repeatable.
  const nodeFlags = args.flatMap((a, i) => (args[i - 1] === '--node-flag' ? [a] : []));
  if (cpuProfDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const work = mkdtempSync(join(tmpdir(), 'cg-bench-iso-'));
  mkdirSync(join(work, 'redis'));
  const redis = await RedisProcess.start({
    dir: join(work, 'redis'),
    port: await freePort(),
    appendonly: false,
  });
  const client = createRedisClient({ url: redis.url });
  const sftp = await startSftp();
  const ari = new AriDouble();
  let serve: ServeProcess | undefined;
  try {
    const tenants = new TenantRepository(client, STORE);
    const rules = new RuleRepository(client, STORE);
    const snapshots = new SnapshotStore(client);
    await tenants.create('calls');
    await rules.create('calls', { called: '_1404!', direction: 'outbound', action: 'block' });
    await tenants.create('big');
    await tenants.create('imp');
    const { key } = await new ApiKeyRepository(client).create('big', { name: 'bench' });

    // The big tenant's snapshot, as a rebuild elsewhere would store it (compiled here, in the bench).
    const t0 = performance.now();
    const engine = DecisionEngine.fromRules(
      syntheticRules(ruleCount - Math.floor(ruleCount / 50), Math.floor(ruleCount / 50)),
      {
        bindings: TASKS,
      },
    );
    // Every stored snapshot but the first has strings (prefixes, scope values) of its own, unless
    // --same-strings: the call process then cannot reuse any of the strings it holds (the worst case).
    let stored = 0;
    const variant = () => {
      if (stored++ === 0 || sameStrings) return engine;
      const parts = engine.base.parts;
      const strings = parts.strings.map((s) => `${s}~${stored}`);
      return DecisionEngine.fromIndex(new RuleIndex({ ...parts, strings }), engine.options());
    };
    const storeSnapshot = async () => {
      const k = tenantKeys('big');
      // Held so that no callguard node rebuilds it from the (absent) rules meanwhile.
      await client.set(k.snapshotLock, 'bench', 'PX', 600_000);
      const version = await rules.publishReload('big');
      const bytes = encodeSnapshot(variant(), { version });
      await snapshots.write('big', bytes, version);
      await client.del(k.snapshotLock);
      return { version, bytes: bytes.length };
    };
    const first = await storeSnapshot();
    console.log(
      JSON.stringify({
        bench: 'isolation',
        setup: 'snapshot compiled',
        rules: ruleCount,
        bytes: first.bytes,
        seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      }),
    );

    const ariUrl = await ari.start();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    serve = new ServeProcess(
      ['--roles', 'api,ari,worker', ...(single ? ['--single-process'] : [])],
      {
        ...process.env,
        REDIS_URL: redis.url,
        CALLGUARD_EMBEDDED_REDIS: 'never',
        CALLGUARD_DATA_DIR: work,
        CALLGUARD_HTTP_PORT: String(port),
        CALLGUARD_SECRET_KEY: SECRET,
        CALLGUARD_JOB_CONCURRENCY: '1',
        ARI_URL: ariUrl,
        ARI_USERNAME: 'test',
        ARI_PASSWORD: 'test',
        LOG_LEVEL: 'info',
        NODE_OPTIONS: '--max-old-space-size=8192',
      },
      nodeFlags,
    );
    const s = serve;
    const loaded = (tenant: string, version: string, from = 0) =>
      s.waitFor(
        (l) =>
          (single || l.proc === 'call') &&
          l.msg === 'rules loaded' &&
          l.tenant === tenant &&
          String(l.version) >= version,
        900_000,
        from,
      );
    await s.waitFor((l) => (single || l.proc === 'supervisor') && l.msg === 'callguard serving', 600_000);
    await loaded('big', first.version);
    await ari.waitForApp(30_000);

    // Calls at 20/s for the whole run.
    const calls: DoubleCall[] = [];
    let unplaced = 0;
    let placing = true;
    const placer = (async () => {
      for (let i = 0; placing; i++) {
        const c = ari.placeCall({
          called: i % 2 ? '14045550001' : '15550001',
          calling: '201',
          args: ['outbound'],
          variables: { CALLGUARD_TENANT: 'calls' },
        });
        if (c) calls.push(c);
        else unplaced++;
        await sleep(50);
      }
    })();
    const metrics = async () => (await fetch(`${base}/metrics`)).text();
    const callPid = () => (single ? s.child.pid : s.childPids('call').at(-1));
    const phase = async (name: string, work: () => Promise<Record<string, unknown>>) => {
      const from = calls.length;
      await metrics(); // starts a new measuring window in every process
      const cpu0 = mainThreadCpuMs(callPid());
      const p0 = performance.now();
      const extra = await work();
      const body = await metrics();
      const cpuMs = mainThreadCpuMs(callPid()) - cpu0;
      const windowSeconds = (performance.now() - p0) / 1000;
      await sleep(2_000);
      const placed = calls.slice(from);
      const printed: Record<string, unknown> = {
        bench: 'isolation',
        phase: name,
        seconds: Number(((performance.now() - p0 - 2_000) / 1000).toFixed(1)),
        mode: single ? 'single-process' : 'supervised',
        callProcessLoopDelay: loopDelay(body, single ? 'all' : 'call'),
        ...(single ? {} : { adminProcessLoopDelay: loopDelay(body, 'admin') }),
        // The call process's main thread: CPU ms in this window, and per second.
        callMainThreadCpuMs: cpuMs,
        callMainThreadCpuMsPerSecond: Math.round(cpuMs / windowSeconds),
        calls: placed.length,
        undecided: placed.filter((c) => c.end === undefined).length,
        ...extra,
        loadAverage: loadavg()[0]!.toFixed(2),
        bar: 'call process p99 ≤ 10 ms',
      };
      console.log(JSON.stringify(printed));
      return printed;
    };

    await phase('baseline', async () => {
      await sleep(baselineSeconds * 1000);
      return {};
    });
    const swapped: { p99Ms: number; busyMs: number; cpuMs: number }[] = [];
    for (let i = 0; i < swaps; i++) {
      const printed = await phase(swaps > 1 ? `snapshot ${i + 1}/${swaps}` : 'snapshot', async () => {
        const from = s.lines.length;
        const next = await storeSnapshot();
        const line = await loaded('big', next.version, from);
        // The old index becomes garbage at the swap: its collection belongs to this window too.
        await sleep(settleSeconds * 1000);
        // What the call process loaded: the whole snapshot, not an empty index built from no rules.
        if (line.rules !== ruleCount || line.fromSnapshot !== true) {
          throw new Error(`the call process loaded ${JSON.stringify(line)}; log:\n${s.tail(60)}`);
        }
        return {
          rules: line.rules,
          fromSnapshot: line.fromSnapshot,
          bytes: next.bytes,
          swapBusyMs: line.busyMs,
          swapCpuMs: line.cpuMs,
          swapSlices: line.slices,
          swapLongestSliceMs: line.longestSliceMs,
          swapReusedStrings: line.reused,
        };
      });
      swapped.push({
        p99Ms: (printed.callProcessLoopDelay as { p99Ms: number }).p99Ms,
        busyMs: Number(printed.swapBusyMs),
        cpuMs: Number(printed.swapCpuMs),
      });
    }
    if (swaps > 1) {
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const p99 = median(swapped.map((x) => x.p99Ms));
      console.log(
        JSON.stringify({
          bench: 'isolation',
          phase: 'snapshot (median of swaps)',
          swaps,
          callProcessLoopDelayP99Ms: p99,
          swapBusyMs: median(swapped.map((x) => x.busyMs)),
          swapCpuMs: median(swapped.map((x) => x.cpuMs)),
          loadAverage: loadavg()[0]!.toFixed(2),
          bar: 'call process p99 ≤ 10 ms',
          pass: p99 <= 10,
        }),
      );
    }
    if (screens > 0)
      await phase('screen', async () => {
        const numbers = Array.from({ length: 100_000 }, (_, i) => String(14_040_000_000 + i * 13));
        let blocked = 0;
        for (let i = 0; i < screens; i++) {
          const res = await fetch(`${base}/v1/screen`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ numbers }),
          });
          if (res.status !== 200) throw new Error(`screen answered ${res.status}: ${await res.text()}`);
          blocked += ((await res.json()) as { blocked: number }).blocked;
        }
        return { screens, numbersEach: 100_000, blocked };
      });
    if (rows > 0)
      await phase('import', async () => {
        await writeCsv(join(sftp.root, 'rules.csv'), rows);
        const jobs = createBulkJobs(
          {
            REDIS_URL: redis.url,
            CALLGUARD_DATA_DIR: work,
            CALLGUARD_JOB_CONCURRENCY: 1,
            CALLGUARD_JOB_FILE_TTL_HOURS: 1,
            CALLGUARD_SECRET_KEY: SECRET,
          },
          client,
          STORE,
          silentLogger,
        );
        // The file's rows name the group `dnc`: an import refuses rows of a group that does not exist.
        await new CatalogRepository(client).putGroup('imp', { id: 'dnc', name: 'dnc' });
        const server = await jobs.fileServers.create('imp', {
          name: 'bench',
          host: sftp.host,
          port: sftp.port,
          username: sftp.username,
          privateKey: sftp.privateKey,
          root: sftp.root,
        });
        const from = s.lines.length;
        const id = await jobs.service.submitServerImport(
          'imp',
          { serverId: server.id, path: '', fileName: 'rules.csv' },
          { overrideRule: 'skip' },
          'bench',
        );
        const view = await jobs.service.waitFor('imp', id);
        if (view.progress.imported !== rows)
          throw new Error(
            `the import applied ${view.progress.imported} of ${rows} rows (${view.progress.failed} failed)`,
          );
        const reload = await s.waitFor(
          (l) =>
            (single || l.proc === 'call') &&
            l.msg === 'rules loaded' &&
            l.tenant === 'imp' &&
            Number(l.rules) >= rows,
          900_000,
          from,
        );
        await jobs.service.close?.();
        return {
          rows,
          state: view.state,
          imported: view.progress.imported,
          reloadedFromSnapshot: reload.fromSnapshot,
        };
      });

    placing = false;
    await placer;
    await sleep(3_000);
    console.log(
      JSON.stringify({
        bench: 'isolation',
        summary: true,
        calls: calls.length,
        unplaced,
        undecided: calls.filter((c) => c.end === undefined).length,
        callProcessRestarts: single ? 0 : s.childPids('call').length - 1,
      }),
    );
  } finally {
    await serve?.stop();
    await ari.stop();
    client.disconnect();
    await sftp.stop();
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
