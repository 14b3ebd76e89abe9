import { spawnSync } from 'node:child_process';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { decodeSnapshot, encodeSnapshot } from '../src/engine/snapshot-codec.js';
import { csvLoad } from './csv-load.js';
import { exactNumber, syntheticCalls, syntheticRules, TASKS } from './synthetic-rules.js';

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

/** Decisions per second over a warm loop, and per-decision latency from individually timed calls. */
function measure<T>(calls: T[], decide: (c: T) => unknown, seconds: number) {
  for (let i = 0; i < Math.min(calls.length, 200_000); i++) decide(calls[i]);
  let done = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let sink = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < calls.length; i++) if (decide(calls[i]) !== undefined) sink++;
    done += calls.length;
  }
  const elapsed = performance.now() - start;
  const samples = new Float64Array(Math.min(200_000, calls.length));
  for (let i = 0; i < samples.length; i++) {
    const t0 = performance.now();
    decide(calls[i]);
    samples[i] = (performance.now() - t0) * 1e6;
  }
  samples.sort();
  return {
    per_sec: Math.round((done / elapsed) * 1000),
    p50_ns: Math.round(percentile(samples, 0.5)),
    p99_ns: Math.round(percentile(samples, 0.99)),
    sink,
  };
}

async function scenario(exact: number, patterns: number, seconds: number): Promise<void> {
  const rules = exact + patterns;
  gc();
  const before = liveBytes();
  const t0 = performance.now();
  const engine = DecisionEngine.fromRules(syntheticRules(exact, patterns), { bindings: TASKS });
  const buildMs = performance.now() - t0;
  gc();
  const bytesPerRule = (liveBytes() - before) / rules;

  const calls = syntheticCalls(1_000_000, exact);
  const m = measure(calls, (c) => engine.decide(c), seconds);
  let matched = 0;
  for (let i = 0; i < 100_000; i++) if (engine.decide(calls[i]).rule) matched++;

  const snapshot = encodeSnapshot(engine, { version: 'bench' });
  const t1 = performance.now();
  const decoded = decodeSnapshot(snapshot);
  const loadMs = performance.now() - t1;
  if (decoded.engine.decide(calls[0]).action !== engine.decide(calls[0]).action)
    throw new Error('snapshot differs');

  console.log(
    JSON.stringify({
      scenario: `engine ${exact / 1e6}M exact + ${patterns / 1e3}k prefix/range`,
      rules,
      build_ms: Math.round(buildMs),
      decisions_per_sec: m.per_sec,
      p50_ns: m.p50_ns,
      p99_ns: m.p99_ns,
      matched_share: matched / 100_000,
      bytes_per_rule: Number(bytesPerRule.toFixed(1)),
      snapshot_bytes: snapshot.length,
      snapshot_load_ms: Math.round(loadMs),
    }),
  );
}

/** The naive baseline the issue names: the same exact numbers in a Set<string>, exact-only lookups. */
function baseline(exact: number, seconds: number): void {
  gc();
  const before = liveBytes();
  const t0 = performance.now();
  const set = new Set<string>();
  for (let i = 0; i < exact; i++) set.add(exactNumber(i).number);
  const buildMs = performance.now() - t0;
  gc();
  const bytes = (liveBytes() - before) / exact;
  const calls = syntheticCalls(1_000_000, exact).map((c) =>
    c.direction === 'outbound' ? c.called : c.calling,
  );
  const m = measure(calls, (n) => set.has(n) || undefined, seconds);
  console.log(
    JSON.stringify({
      scenario: `baseline Set<string> ${exact / 1e6}M exact only`,
      rules: exact,
      build_ms: Math.round(buildMs),
      lookups_per_sec: m.per_sec,
      p50_ns: m.p50_ns,
      p99_ns: m.p99_ns,
      bytes_per_rule: Number(bytes.toFixed(1)),
    }),
  );
  set.clear();
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  if (args.length === 0) {
    // Each size in a fresh process: a 10M index measured in a heap that already held a 1M one and the
    // CSV scenario ran ~40% slower here, which says more about the heap than about the engine.
    console.log(JSON.stringify(await csvLoad(1_000_000)));
    for (const size of ['1000000', '10000000']) {
      spawnSync(process.execPath, [...process.execArgv, process.argv[1], 'engine', size], {
        stdio: 'inherit',
      });
    }
    return;
  }
  for (const exact of args.map(Number)) {
    await scenario(exact, 100_000, seconds);
    baseline(exact, seconds);
  }
}
