/**
 * Contact policies: what they cost and how well the shared attempt caps hold.
 *   overshoot  three nodes (each its own Redis connection and attempt counter) against a private
 *              redis-server, outbound calls at --rate calls/s in total (default 200) spread round
 *              robin over the nodes, to --numbers numbers (default 20, and a single hot number),
 *              for --seconds (default 10); cap --cap per day (default 3). Prints the attempts let
 *              through beyond the cap (per number: max and total) and the bound the design states:
 *              the attempts that reach the other nodes within one merge interval plus a round trip.
 *   memory     Redis memory per counted number: --counted numbers (default 20,000) with one
 *              attempt each; used_memory before and after, and MEMORY USAGE of one counter.
 *   screen     a 100,000-number list screened for a task with a window and caps, against the same
 *              list for a task without policies, medians of --screens runs (default 7) in this run:
 *              the figure, the baseline, the ratio and the bar (median <= 150 ms).
 * `npm run bench -- policies [--rate 200] [--seconds 10] [--numbers 20] [--cap 3] [--counted 20000] [--screens 7]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { screenNumbers } from '../src/api/routes/screen-routes.js';
import { LocalAttemptCounter } from '../src/call/attempt-counter.js';
import { MemoryEventSink } from '../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../src/call/call-plan.js';
import { CallScreener, type TenantDecider } from '../src/call/call-screener.js';
import { withPolicies } from '../src/call/policy-decider.js';
import { TaskPolicies } from '../src/call/task-policies.js';

import { type ContactPolicy, contactPolicySchema } from '../src/domain/contact-policy.js';
import { DIGITS_POLICY } from '../src/domain/number.js';
import { attemptIncrements } from '../src/domain/policy-evaluation.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { silentLogger } from '../src/log.js';
import { RedisAttemptCounter } from '../src/store/attempt-counters.js';
import { tenantKeys } from '../src/store/keys.js';
import { createRedisClient, type RedisClient } from '../src/store/redis-client.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { NOW, prng, syntheticRules, TASKS } from './synthetic-rules.js';

const argOf = (args: string[], name: string, dflt: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : dflt;
};
const print = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MERGE_MS = 5;

const rulesOnly = (engine: DecisionEngine): TenantDecider => ({
  policy: DIGITS_POLICY,
  handling: DEFAULT_CALL_HANDLING,
  decide: (c) => engine.decide(c),
});

async function overshoot(url: string, args: string[]): Promise<void> {
  const rate = argOf(args, '--rate', 200);
  const seconds = argOf(args, '--seconds', 10);
  const cap = argOf(args, '--cap', 3);
  const engine = DecisionEngine.fromRules([]);
  for (const numbers of [argOf(args, '--numbers', 20), 1]) {
    const tenant = `bench-overshoot-${numbers}-${Date.now()}`;
    const policy = contactPolicySchema.parse({
      id: 'cap',
      name: 'cap',
      zone: 'UTC',
      caps: [{ max: cap, per: 'day' }],
    });
    const clients: RedisClient[] = [];
    const nodes = ['a', 'b', 'c'].map((name) => {
      const client = createRedisClient({ url, log: silentLogger });
      clients.push(client);
      const counter = new RedisAttemptCounter({
        client,
        log: silentLogger,
        node: name,
        mergeMs: MERGE_MS,
      }).start();
      const decider = withPolicies(rulesOnly(engine), {
        tenant,
        policies: new TaskPolicies(new Map([['cap', policy]]), new Map([['camp', ['cap']]])),
        counter,
        typeOf: () => undefined,
      });
      const screener = new CallScreener(
        { deciderFor: () => decider, fallbackHandling: () => DEFAULT_CALL_HANDLING },
        new MemoryEventSink(),
      );
      return { counter, screener };
    });
    while (!nodes.every((n) => n.counter.ready(tenant))) await sleep(5);
    // Round trip of one script call, measured alongside (the bound is merge interval + round trip).
    const rtts: number[] = [];
    // How long another node takes to see an attempt: probes on numbers of their own, every 50th call.
    const probes = new Map<string, { t0: number; from: number }>();
    const propagation: number[] = [];
    const watch = setInterval(() => {
      for (const [probe, { t0, from }] of probes) {
        const others = nodes.filter((_, i) => i !== from);
        if (others.every((n) => n.counter.tallyOf(tenant, `\u001f${probe}`) !== undefined)) {
          propagation.push(performance.now() - t0);
          probes.delete(probe);
        }
      }
    }, 1);
    const allowed = new Map<string, number>();
    const attempts = Math.round(rate * seconds);
    const start = performance.now();
    for (let i = 0; i < attempts; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (i % 50 === 0) {
        const t0 = performance.now();
        void clients[0]!.ping().then(() => rtts.push(performance.now() - t0));
        const probe = `99${i}`;
        nodes[i % 3]!.counter.add(tenant, new Map([[`\u001f${probe}`, ['probe']]]));
        probes.set(probe, { t0, from: i % 3 });
      }
      const number = `44207946${String(i % numbers).padStart(5, '0')}`;
      const plan = nodes[i % 3]!.screener.screen({
        callId: `c${i}`,
        tenant,
        direction: 'outbound',
        called: number,
        task: 'camp',
      }).plan;
      if (plan.result === 'allow') allowed.set(number, (allowed.get(number) ?? 0) + 1);
    }
    const elapsed = (performance.now() - start) / 1000;
    for (let i = 0; i < 100 && probes.size > 0; i++) await sleep(10);
    clearInterval(watch);
    await Promise.all(nodes.map((n) => n.counter.stop()));
    for (const c of clients) c.disconnect();
    const over = [...allowed.values()].map((a) => Math.max(0, a - cap));
    const rtt = median(rtts.length ? rtts : [0]);
    const perNumberRate = rate / numbers;
    const sorted = [...propagation].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    const overMax = Math.max(0, ...over);
    print({
      bench: 'policies_overshoot',
      nodes: 3,
      rate_calls_per_s: Math.round(attempts / elapsed),
      numbers,
      cap_per_day: cap,
      merge_ms: MERGE_MS,
      redis_rtt_ms_p50: Number(rtt.toFixed(2)),
      propagation_ms_p50: Number(median(sorted.length ? sorted : [0]).toFixed(1)),
      propagation_ms_p99: Number(p99.toFixed(1)),
      overshoot_max_per_number: overMax,
      overshoot_total: over.reduce((a, b) => a + b, 0),
      // The stated guarantee: at most the attempts to one number that reach the two other nodes
      // while an attempt propagates (merge interval + round trip; event-loop delay stretches it).
      bound_per_number_ideal: Math.ceil(((perNumberRate * 2) / 3) * ((MERGE_MS + rtt) / 1000)),
      bound_per_number_at_p99: Math.ceil(((perNumberRate * 2) / 3) * (p99 / 1000)),
      pass: overMax <= Math.max(1, Math.ceil(((perNumberRate * 2) / 3) * (p99 / 1000))),
      pass_rule: 'overshoot_max_per_number <= max(1, bound_per_number_at_p99)',
      load_avg_1m: loadavg()[0],
    });
  }
}

async function memory(client: RedisClient, args: string[]): Promise<void> {
  const counted = argOf(args, '--counted', 20_000);
  const tenant = `bench-memory-${Date.now()}`;
  const counter = new RedisAttemptCounter({
    client,
    log: silentLogger,
    node: 'm',
    mergeMs: MERGE_MS,
  }).start();
  const policy = contactPolicySchema.parse({
    id: 'p',
    name: 'p',
    zone: 'America/Chicago',
    caps: [
      { max: 3, per: 'day' },
      { max: 5, per: '7d' },
    ],
  });
  counter.follow(tenant);
  while (!counter.ready(tenant)) await sleep(5);
  await client.call('MEMORY', 'PURGE').catch(() => {});
  const usedBefore = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const inputs = { zonesOf: () => undefined, tallyOf: () => undefined };
  for (let i = 0; i < counted; i++) {
    counter.add(
      tenant,
      attemptIncrements([policy], `1312${String(i).padStart(7, '0')}`, 'camp', NOW, inputs),
    );
    if (i % 1000 === 999) await sleep(MERGE_MS * 2);
  }
  await counter.stop();
  const k = tenantKeys(tenant);
  // The attempts stream is capped (a fixed cost per tenant, not per number): measured apart.
  const streamBytes = Number(await client.call('MEMORY', 'USAGE', k.attemptLog));
  const usedAfter = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const oneKey = Number(await client.call('MEMORY', 'USAGE', k.attempts(`\u001f13120000001`)));
  print({
    bench: 'policies_redis_memory',
    counted_numbers: counted,
    fields_per_number: await client.hlen(k.attempts(`\u001f13120000001`)),
    bytes_per_number: Math.round((usedAfter - usedBefore - streamBytes) / counted),
    memory_usage_one_counter: oneKey,
    attempts_stream_bytes: streamBytes,
    load_avg_1m: loadavg()[0],
  });
}

async function screen(args: string[]): Promise<void> {
  const runs = argOf(args, '--screens', 7);
  const engine = DecisionEngine.fromRules(syntheticRules(100_000, 1_000), { bindings: new Map(TASKS) });
  const window = {
    hours: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' },
      { days: ['sat'], from: '09:00', to: '18:00' },
    ],
    holidays: ['2026-12-25', '2027-01-01'],
  };
  const policies: ContactPolicy[] = [
    contactPolicySchema.parse({ id: 'hours', name: 'hours', window }),
    contactPolicySchema.parse({
      id: 'caps',
      name: 'caps',
      caps: [
        { max: 3, per: 'day' },
        { max: 6, per: '7d' },
      ],
    }),
  ];
  const task = TASKS[0]![0];
  const counter = new LocalAttemptCounter();
  const withPol = withPolicies(rulesOnly(engine), {
    tenant: 'bench',
    policies: new TaskPolicies(new Map(policies.map((p) => [p.id, p])), new Map([[task, ['hours', 'caps']]])),
    counter,
    typeOf: () => undefined,
  });
  const rand = prng(7);
  // North American numbers over many area codes (many zones), and a few in Europe.
  const numbers = Array.from({ length: 100_000 }, (_, i) =>
    i % 10 === 9
      ? `44${String(Math.floor(rand() * 1e10)).padStart(10, '0')}`
      : `1${200 + Math.floor(rand() * 800)}${String(Math.floor(rand() * 1e7)).padStart(7, '0')}`,
  );
  // Friday 18:00 in New York, 13:00 in Honolulu, Saturday 09:00 in Guam: inside the window in every
  // North American zone, so what is refused is the caps' tenth (a scrub as a campaign runs it).
  const at = Date.parse('2026-12-04T23:00:00Z');
  // A tenth of the numbers already have attempts today.
  const inputs = { zonesOf: () => ['America/Chicago'], tallyOf: () => undefined };
  for (let i = 0; i < numbers.length; i += 10)
    for (let n = 0; n < 3; n++)
      counter.add('bench', attemptIncrements(policies, numbers[i]!, task, at, inputs));
  const base: number[] = [];
  const pol: number[] = [];
  let blockedBase = 0;
  let blockedPol = 0;
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    blockedBase = (await screenNumbers(rulesOnly(engine), numbers, task, at)).blocked;
    base.push(performance.now() - t0);
    t0 = performance.now();
    blockedPol = (await screenNumbers(withPol, numbers, task, at)).blocked;
    pol.push(performance.now() - t0);
  }
  const figure = median(pol);
  const baseline = median(base);
  print({
    bench: 'policies_screen_100k',
    runs,
    median_ms_with_policies: Number(figure.toFixed(1)),
    median_ms_without_policies: Number(baseline.toFixed(1)),
    ratio: Number((figure / baseline).toFixed(2)),
    blocked_without_policies: blockedBase,
    blocked_with_policies: blockedPol,
    bar_ms: 150,
    pass: figure <= 150,
    load_avg_1m: loadavg()[0],
  });
}

export async function run(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-policies-'));
  const redis = await RedisProcess.start({ dir, port: await freePort(), appendonly: false });
  const client = createRedisClient({ url: redis.url, log: silentLogger });
  try {
    print({ bench: 'policies', machine_cpus: (await import('node:os')).cpus().length, load_avg: loadavg() });
    const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
    if (!only || only === 'overshoot') await overshoot(redis.url, args);
    if (!only || only === 'memory') await memory(client, args);
    if (!only || only === 'screen') await screen(args);
  } finally {
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
