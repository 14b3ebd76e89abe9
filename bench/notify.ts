/**
 * The call path with and without src/notify: CallScreener.screen() on a real engine, once with a
 * no-op event sink and no observer ("off"), once with the live Notifier (event stream + webhook
 * queue, with the delivery worker and a receiver in this same process) and the DecisionRecorder
 * (audit of every decision + hit counters) against a private redis-server ("on"). Rounds alternate
 * off/on in one process so both see the same JIT and machine state.
 *
 *   npm run bench -- notify [exactRules] [paced calls/s]
 *   npm run bench -- notify delivery | streams   (bench/notify-delivery.ts)
 *   npm run bench -- notify tally                (bench/notify-tally.ts)
 *   npm run bench -- notify drain                (bench/notify-drain.ts)
 *   npm run bench -- notify neighbour            (bench/notify-neighbour.ts)
 *
 * Flat-out: calls in chunks of 1000 with a yield between chunks (the background writers get their
 * turns), as fast as the machine goes. Paced: a steady rate (default 20000 calls/s, far above a real
 * PBX) where nothing is dropped. One JSON object per line: calls_per_sec (wall clock, background work
 * included), path_calls_per_sec (1 s / mean time inside screen()), p50/p99 of screen(), CPU per call
 * of this process and CPU per second of redis-server (which shares the machine here).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { CallEventSink } from '../src/call/call-events.js';
import { CallScreener } from '../src/call/call-screener.js';
import type { IncomingCall } from '../src/call/incoming-call.js';
import { StaticDeciderSource } from '../src/call/static-decider-source.js';
import type { BlocklistType } from '../src/domain/blocklist-type.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { silentLogger } from '../src/log.js';
import { DecisionRecorder } from '../src/notify/decision-recorder.js';
import { Notifier } from '../src/notify/notifier.js';
import { DEFAULT_DELIVERY_OPTIONS, webhookDeadLetters } from '../src/notify/webhook-job.js';
import { WebhookQueue } from '../src/notify/webhook-queue.js';
import { webhookSettingsOf } from '../src/notify/webhook-settings.js';
import { WebhookWorker } from '../src/notify/webhook-worker.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { TenantRepository } from '../src/store/tenant-repository.js';
import { WebhookLanes } from '../src/store/webhook-lanes.js';
import { syntheticCalls, syntheticRules, TASKS } from './synthetic-rules.js';

const TENANT = 'bench';
const TYPES: BlocklistType[] = [
  { id: 'type-0', name: 'wrap', operation: 'auto_wrap_up', businessResult: 'DNC' },
  { id: 'type-1', name: 'wrap 2', operation: 'auto_wrap_up', businessResult: 'BLOCKED' },
  {
    id: 'type-2',
    name: 'pop',
    operation: 'pop_up',
    promptContent: 'Do not call',
    jumpAddress: 'https://crm/x',
  },
  { id: 'type-3', name: 'pop 2', operation: 'pop_up', promptContent: 'Spam', jumpAddress: 'https://crm/y' },
];

const nullSink: CallEventSink = { emit() {} };
const tick = () => new Promise<void>((r) => setImmediate(r));
const mean = (s: Float64Array, n: number) => {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i]!;
  return sum / n;
};
const pct = (s: Float64Array, n: number, p: number) => {
  const view = s.subarray(0, n).sort();
  return view[Math.min(n - 1, Math.floor(n * p))]!;
};

interface Sampled {
  calls: number;
  seconds: number;
  samples: Float64Array;
  n: number;
  /** CPU time of this process during the run, µs (user + system). */
  cpuUs: number;
  /** CPU time of the redis-server process during the run, ms (from /proc). */
  redisCpuMs: number;
}

let redisPid: number | undefined;
/** utime + stime of a process in ms, from /proc/<pid>/stat (Linux); 0 elsewhere. */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

async function measured(run: () => Promise<Omit<Sampled, 'cpuUs' | 'redisCpuMs'>>): Promise<Sampled> {
  const cpu0 = process.cpuUsage();
  const r0 = procCpuMs(redisPid);
  const r = await run();
  const cpu = process.cpuUsage(cpu0);
  return { ...r, cpuUs: cpu.user + cpu.system, redisCpuMs: procCpuMs(redisPid) - r0 };
}

/** Flat out: chunks of 1000 calls, a yield between chunks, for `seconds`. */
async function flatOut(screener: CallScreener, calls: IncomingCall[], seconds: number) {
  const samples = new Float64Array(4_000_000);
  let n = 0;
  let i = 0;
  let done = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) {
      const call = calls[i]!;
      i = i + 1 === calls.length ? 0 : i + 1;
      const t0 = performance.now();
      screener.screen(call);
      const dt = performance.now() - t0;
      if (n < samples.length) samples[n++] = dt * 1e6;
    }
    done += 1000;
    await tick();
  }
  return { calls: done, seconds: (performance.now() - start) / 1000, samples, n };
}

/** A steady `rate` calls/s, issued every millisecond, for `seconds`. */
async function paced(screener: CallScreener, calls: IncomingCall[], seconds: number, rate: number) {
  const samples = new Float64Array(Math.ceil(rate * seconds) + 1000);
  let n = 0;
  let i = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (n < due && n < samples.length) {
      const call = calls[i]!;
      i = i + 1 === calls.length ? 0 : i + 1;
      const t0 = performance.now();
      screener.screen(call);
      samples[n++] = (performance.now() - t0) * 1e6;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { calls: n, seconds: (performance.now() - start) / 1000, samples, n };
}

export async function run(args: string[]): Promise<void> {
  // `notify delivery` and `notify streams` (issue 26) measure at the receivers, in their own file.
  if (args[0] === 'drain') return (await import('./notify-drain.js')).drain(args.slice(1));
  if (args[0] === 'neighbour') return (await import('./notify-neighbour.js')).neighbour(args.slice(1));
  if (args[0] === 'delivery' || args[0] === 'streams') {
    const m = await import('./notify-delivery.js');
    return args[0] === 'delivery' ? m.delivery(args.slice(1)) : m.streams(args.slice(1));
  }
  // `notify tally` (issue 20): the dashboard's per-call counting alone.
  if (args[0] === 'tally') return (await import('./notify-tally.js')).tally(args.slice(1));
  const exact = Number(args[0] ?? 1_000_000);
  const rate = Number(args[1] ?? 20_000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const only = process.env.BENCH_ONLY; // 'on' | 'off': one mode (for profiling)

  const engine = DecisionEngine.fromRules(syntheticRules(exact, 10_000), { bindings: TASKS, types: TYPES });
  const calls: IncomingCall[] = syntheticCalls(200_000, exact).map((c, i) => ({
    callId: `call-${i}`,
    tenant: TENANT,
    direction: c.direction,
    called: c.called,
    calling: c.calling,
    task: c.task,
    user: c.user,
  }));
  const source = new StaticDeciderSource().set(TENANT, engine, { mode: 'digits' });

  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-notify-'));
  const redisProc = await RedisProcess.start({ dir, port: await freePort(), appendfsync: 'everysec' });
  redisPid = redisProc.pid;
  const client = new Redis(redisProc.url);
  const workerConnection = new Redis(redisProc.url, { maxRetriesPerRequest: null });
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  const tenants = new TenantRepository(client);
  await tenants.create(TENANT, {
    params: {
      webhooks: {
        agentDesktopUrl: `http://127.0.0.1:${port}/desk`,
        campaignEngineUrl: `http://127.0.0.1:${port}/campaign`,
      },
      webhookSecret: 'bench-secret-0123456789',
      allowPrivateWebhookTargets: true,
    },
  });
  const settingsFor = async (t: string) => webhookSettingsOf(await tenants.params(t));
  const queue = new WebhookQueue(client, DEFAULT_DELIVERY_OPTIONS);
  const notifier = new Notifier({
    client,
    queue,
    settingsFor,
    log: silentLogger,
    options: { bufferCapacity: 100_000 },
  });
  const recorder = new DecisionRecorder(client, silentLogger, {
    node: 'bench',
    flushMs: 200,
    bufferCapacity: 200_000,
  }).start();
  const worker = new WebhookWorker({
    connection: workerConnection,
    lanes: new WebhookLanes(client),
    settingsFor,
    deadLetters: webhookDeadLetters(client),
    options: DEFAULT_DELIVERY_OPTIONS,
    log: silentLogger,
  });

  const sampledRecorder = new DecisionRecorder(client, silentLogger, {
    node: 'bench',
    flushMs: 200,
    bufferCapacity: 200_000,
    allowSampleRate: 0.01,
  }).start();
  const off = new CallScreener(source, nullSink);
  const on = new CallScreener(source, notifier, Date.now, recorder);
  // The same with CALLGUARD_AUDIT_ALLOW_SAMPLE=0.01: every block, one allow in a hundred audited.
  const onSampled = new CallScreener(source, notifier, Date.now, sampledRecorder);
  // Warm both paths up.
  await flatOut(off, calls, 1);
  await flatOut(on, calls, 1);
  await flatOut(onSampled, calls, 1);

  const rows = new Map<string, Array<Record<string, number>>>();
  const report = (scenario: string, mode: string, r: Sampled, extra: Record<string, unknown> = {}) => {
    const figures = {
      calls_per_sec: Math.round(r.calls / r.seconds),
      // The call path alone: 1 s divided by the mean time inside screen() (background work excluded).
      path_calls_per_sec: Math.round(1e9 / mean(r.samples, r.n)),
      p50_ns: Math.round(pct(r.samples, r.n, 0.5)),
      p99_ns: Math.round(pct(r.samples, r.n, 0.99)),
      node_cpu_us_per_call: Number((r.cpuUs / r.calls).toFixed(2)),
      redis_cpu_ms_per_s: Math.round(r.redisCpuMs / r.seconds),
    };
    const key = JSON.stringify([scenario, mode]);
    rows.set(key, [...(rows.get(key) ?? []), figures]);
    console.log(JSON.stringify({ scenario, mode, rules: exact + 10_000, ...figures, ...extra }));
  };
  /** One line per scenario and mode: the median of each figure over the rounds. */
  const summarize = () => {
    for (const [key, list] of rows) {
      const [scenario, mode] = JSON.parse(key) as [string, string];
      const median = (k: string) => {
        const v = list.map((x) => x[k]!).sort((a, b) => a - b);
        return v[Math.floor((v.length - 1) / 2)];
      };
      const keys = Object.keys(list[0]!);
      console.log(
        JSON.stringify({
          scenario,
          mode,
          summary: `median of ${list.length} rounds`,
          ...Object.fromEntries(keys.map((k) => [k, median(k)])),
        }),
      );
    }
  };
  const counters = () => ({
    events_written: notifier.written,
    events_dropped: notifier.dropped,
    audit_written: recorder.written,
    audit_dropped: recorder.droppedAudit,
    webhooks_received: received,
  });

  for (let round = 1; round <= rounds; round++) {
    if (only !== 'on')
      report('notify flat-out', 'off', await measured(() => flatOut(off, calls, seconds)), { round });
    if (only !== 'off') {
      report('notify flat-out', 'on', await measured(() => flatOut(on, calls, seconds)), {
        round,
        ...counters(),
      });
      report(
        'notify flat-out',
        'on, allows sampled 1%',
        await measured(() => flatOut(onSampled, calls, seconds)),
        {
          round,
        },
      );
    }
  }
  for (let round = 1; round <= rounds; round++) {
    const scenario = `notify paced ${rate}/s`;
    if (only !== 'on')
      report(scenario, 'off', await measured(() => paced(off, calls, seconds, rate)), { round });
    if (only !== 'off') {
      report(scenario, 'on', await measured(() => paced(on, calls, seconds, rate)), { round, ...counters() });
    }
  }

  summarize();
  await notifier.flush(10_000);
  await recorder.close();
  await sampledRecorder.close();
  await worker.close();
  await queue.close();
  client.disconnect();
  workerConnection.disconnect();
  receiver.closeAllConnections();
  receiver.close();
  await redisProc.stop();
  rmSync(dir, { recursive: true, force: true });
}
