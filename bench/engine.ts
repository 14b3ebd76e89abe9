import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { CallContext } from '../src/domain/call-context.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { decodeSnapshot, encodeSnapshot } from '../src/engine/snapshot-codec.js';
import { csvLoad } from './csv-load.js';
import { ExactCeiling } from './exact-ceiling.js';
import { FreshCalls } from './fresh-calls.js';
import { exactNumber, syntheticCalls, syntheticRules, TASKS } from './synthetic-rules.js';

/** The bars of issue "speed to the ceilings" at 10M rules: decide() against the Set baseline, memory. */
const BAR_ENGINE_VS_SET = 1.5;
const BAR_BYTES_PER_RULE = 24;

const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
};
const liveBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Builds a structure and returns it with its live bytes (heap + array buffers) after GC. */
function measured<T>(build: () => T): { value: T; bytes: number; ms: number } {
  gc();
  const before = liveBytes();
  const t0 = performance.now();
  const value = build();
  const ms = performance.now() - t0;
  gc();
  return { value, bytes: liveBytes() - before, ms };
}

/**
 * How the contenders get their calls (both give all three contenders identical calls, made the same
 * way; see docs/DECISIONS.md):
 * - `premade`: one million call objects and numbers made before the race and read in turn (the
 *   Set's strings have their hash cached by V8 after first use; the objects are cold in cache);
 * - `fresh`: as the call path hands them over (bench/fresh-calls.ts): numbers just cut out of an
 *   event's text, the context just built by toCallContext, hot in cache.
 * Either way a batch of BATCH calls is put together untimed, then timed through one contender.
 */
export type Inputs = 'premade' | 'fresh';

/**
 * One contender: its lookup over a batch of calls, written out per contender so that each loop calls
 * one lookup (a shared loop calling three closures would be megamorphic and tax the fastest
 * contender most).
 */
interface Contender {
  readonly name: string;
  /** Looks up every call of the batch; returns how many matched. */
  readonly run: (batch: readonly CallContext[]) => number;
  /** One lookup, for latency samples. */
  readonly one: (call: CallContext) => unknown;
}

/** Where a contender's calls come from: a batch filled untimed before it is timed. */
class CallFeed {
  private next = 0;
  private readonly fresh: FreshCalls | null;
  readonly batch: CallContext[] = new Array(BATCH);

  constructor(
    private readonly calls: readonly CallContext[],
    inputs: Inputs,
  ) {
    this.fresh = inputs === 'fresh' ? new FreshCalls(calls) : null;
  }

  /** Call i (modulo count): the premade object, or a fresh one made the production way. */
  call(i: number): CallContext {
    return this.fresh ? this.fresh.make(i) : this.calls[i % this.calls.length];
  }

  fill(): readonly CallContext[] {
    for (let j = 0; j < BATCH; j++) this.batch[j] = this.call(this.next + j);
    this.next = (this.next + BATCH) % this.calls.length;
    return this.batch;
  }
}

/** Calls a timed batch takes: a few tens of KB of fresh inputs, hot in cache like the event just parsed. */
const BATCH = 250;
/** Batches between two looks at the clock of a slice. */
const BATCHES = 40;

/** Runs the contender for about `ms` milliseconds; lookups per second of timed work. */
function slice(c: Contender, feed: CallFeed, ms: number, sink: { n: number }): number {
  let done = 0;
  let timed = 0;
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    for (let b = 0; b < BATCHES; b++) {
      const batch = feed.fill();
      const t0 = performance.now();
      sink.n += c.run(batch);
      timed += performance.now() - t0;
    }
    done += BATCH * BATCHES;
  }
  return (done / timed) * 1000;
}

/** Per-lookup latency from individually timed calls (includes ~40 ns of timer overhead). */
function latency(c: Contender, feed: CallFeed, count: number): { p50_ns: number; p99_ns: number } {
  const samples = new Float64Array(Math.min(200_000, count));
  for (let i = 0; i < samples.length; i++) {
    const call = feed.call(i);
    const t0 = performance.now();
    c.one(call);
    samples[i] = (performance.now() - t0) * 1e6;
  }
  samples.sort();
  return { p50_ns: Math.round(percentile(samples, 0.5)), p99_ns: Math.round(percentile(samples, 0.99)) };
}

/** The number a baseline looks up: the side the call's direction screens. */
const screened = (c: CallContext): string => (c.direction === 'outbound' ? c.called : c.calling);

/**
 * The three contenders measured in interleaved one-second slices (engine, Set, ceiling, engine, ...)
 * so that a change of load on a shared machine hits all three alike; each figure is the median of
 * its slices and each ratio the median of the per-round ratios.
 */
function race(contenders: Contender[], feeds: CallFeed[], rounds: number): number[][] {
  const sink = { n: 0 };
  // warm-up: optimised code before the first slice
  for (let i = 0; i < contenders.length; i++) slice(contenders[i], feeds[i], 500, sink);
  const rates = contenders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) rates[i].push(slice(contenders[i], feeds[i], 1000, sink));
  }
  if (sink.n < 0) console.log(sink.n);
  return rates;
}

async function scenario(exact: number, patterns: number, seconds: number, inputs: Inputs): Promise<void> {
  const rules = exact + patterns;
  const load = loadavg()[0];
  const engine = measured(() =>
    DecisionEngine.fromRules(syntheticRules(exact, patterns), { bindings: TASKS }),
  );
  const calls = syntheticCalls(1_000_000, exact);
  let matched = 0;
  for (let i = 0; i < 100_000; i++) if (engine.value.decide(calls[i]).rule) matched++;

  let snapshotBytes = 0;
  let loadMs = 0;
  {
    const snapshot = encodeSnapshot(engine.value, { version: 'bench' });
    snapshotBytes = snapshot.length;
    const t1 = performance.now();
    const decoded = decodeSnapshot(snapshot);
    loadMs = performance.now() - t1;
    for (let i = 0; i < 1000; i++) {
      if (decoded.engine.decide(calls[i]).ruleId !== engine.value.decide(calls[i]).ruleId)
        throw new Error('the decoded snapshot decides differently');
    }
  }

  // The baselines answer the exact number of the side a call's direction screens: the same lookups
  // the engine's exact part does, without any of the rest of a decision.
  const set = measured(() => {
    const s = new Set<string>();
    for (let i = 0; i < exact; i++) s.add(exactNumber(i).number);
    return s;
  });
  const ceiling = measured(() => {
    const t = new ExactCeiling(exact);
    for (let i = 0; i < exact; i++) t.add(exactNumber(i).number, i + 1);
    return t;
  });

  const decider = engine.value;
  const setValue = set.value;
  const ceilingValue = ceiling.value;
  const contenders: Contender[] = [
    {
      name: 'engine',
      run: (batch) => {
        let m = 0;
        for (let j = 0; j < batch.length; j++) if (decider.decide(batch[j]).action === 'block') m++;
        return m;
      },
      one: (call) => decider.decide(call),
    },
    {
      name: 'set',
      run: (batch) => {
        let m = 0;
        for (let j = 0; j < batch.length; j++) if (setValue.has(screened(batch[j]))) m++;
        return m;
      },
      one: (call) => setValue.has(screened(call)),
    },
    {
      name: 'ceiling',
      run: (batch) => {
        let m = 0;
        for (let j = 0; j < batch.length; j++) if (ceilingValue.get(screened(batch[j])) !== 0) m++;
        return m;
      },
      one: (call) => ceilingValue.get(screened(call)),
    },
  ];
  // Each contender its own feed: a fresh string hashed by the Set must not reach the others hashed.
  const feeds = contenders.map(() => new CallFeed(calls, inputs));
  const rounds = Math.max(3, Math.round(seconds));
  const rates = race(contenders, feeds, rounds);
  const [engineLat, setLat, ceilingLat] = contenders.map((c, i) => latency(c, feeds[i], calls.length));
  const perSec = rates.map((r) => Math.round(median(r)));
  const vsSet = median(rates[0].map((e, i) => e / rates[1][i]));
  const vsCeiling = median(rates[0].map((e, i) => e / rates[2][i]));
  const bytesPerRule = engine.bytes / rules;
  const size = `${exact / 1e6}M`;
  const given = inputs === 'fresh' ? 'fresh inputs' : 'premade inputs';

  console.log(
    JSON.stringify({
      scenario: `engine ${size} exact + ${patterns / 1e3}k prefix/range, ${given}`,
      rules,
      build_ms: Math.round(engine.ms),
      decisions_per_sec: perSec[0],
      ...engineLat,
      matched_share: matched / 100_000,
      bytes_per_rule: Number(bytesPerRule.toFixed(1)),
      snapshot_bytes: snapshotBytes,
      snapshot_load_ms: Math.round(loadMs),
    }),
  );
  console.log(
    JSON.stringify({
      scenario: `baseline Set<string> ${size} exact only, ${given}`,
      rules: exact,
      build_ms: Math.round(set.ms),
      lookups_per_sec: perSec[1],
      ...setLat,
      bytes_per_rule: Number((set.bytes / exact).toFixed(1)),
    }),
  );
  console.log(
    JSON.stringify({
      scenario: `ceiling typed-array open addressing ${size} exact only, ${given}`,
      rules: exact,
      build_ms: Math.round(ceiling.ms),
      lookups_per_sec: perSec[2],
      ...ceilingLat,
      bytes_per_rule: Number((ceiling.bytes / exact).toFixed(1)),
    }),
  );
  const speedPass = vsSet >= BAR_ENGINE_VS_SET;
  const memoryPass = bytesPerRule <= BAR_BYTES_PER_RULE;
  console.log(
    JSON.stringify({
      scenario: `bars at ${size} exact rules, ${given}`,
      inputs,
      rounds,
      load_average: Number(load.toFixed(2)),
      engine_vs_set: Number(vsSet.toFixed(2)),
      engine_vs_set_bar: BAR_ENGINE_VS_SET,
      engine_vs_set_by_round: rates[0].map((e, i) => Number((e / rates[1][i]).toFixed(2))),
      engine_vs_ceiling: Number(vsCeiling.toFixed(2)),
      bytes_per_rule: Number(bytesPerRule.toFixed(1)),
      bytes_per_rule_bar: BAR_BYTES_PER_RULE,
      speed: speedPass ? 'pass' : 'fail',
      memory: memoryPass ? 'pass' : 'fail',
      // The bars are set for 10M rules; smaller sizes print them for comparison.
      applies: exact >= 10_000_000,
    }),
  );
}

/**
 * `engine [sizes...]`: each size and each input model in a fresh process (a 10M index measured in a
 * heap that already held a 1M one and the CSV scenario ran ~40% slower here, which says more about
 * the heap than about the engine; and one process per input model keeps the engine's call-site
 * feedback to the one context shape that model makes). `--inputs=premade|fresh` runs one in-process.
 */
export async function run(args: string[]): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const flag = args.find((a) => a.startsWith('--inputs='));
  const sizes = args.filter((a) => !a.startsWith('--'));
  if (flag) {
    const inputs = flag.slice('--inputs='.length);
    if (inputs !== 'premade' && inputs !== 'fresh') throw new Error(`--inputs=premade|fresh, not ${inputs}`);
    for (const exact of sizes.map(Number)) await scenario(exact, 100_000, seconds, inputs);
    return;
  }
  if (sizes.length === 0) console.log(JSON.stringify(await csvLoad(1_000_000)));
  for (const size of sizes.length > 0 ? sizes : ['1000000', '10000000']) {
    for (const inputs of ['premade', 'fresh'] as const) {
      spawnSync(
        process.execPath,
        [...process.execArgv, process.argv[1], 'engine', size, `--inputs=${inputs}`],
        {
          stdio: 'inherit',
        },
      );
    }
  }
}
