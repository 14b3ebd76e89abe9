import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DoubleCallResult, DoubleCallSpec } from './esl-double-common.js';

export interface EslLoadOptions {
  readonly rate: number;
  readonly seconds: number;
  /** Calls placed before measuring (left out of the figures). */
  readonly warmupCalls?: number;
  readonly specs: readonly DoubleCallSpec[];
}

export interface EslLoadReport {
  readonly placed: number;
  readonly measured: number;
  readonly elapsedMs: number;
  readonly callsPerSec: number;
  /** Decision latency at the double: channel data / CHANNEL_PARK written → last command of the outcome read, ms. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly ends: Record<string, number>;
  /** The same latency split by how the call ended (continue waits for FreeSWITCH to confirm the sets). */
  readonly byEnd: Record<string, { p50Ms: number; p99Ms: number }>;
  readonly leftInApp: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Places calls at a steady rate (catching up when a timer fires late) and measures them at the double. */
export async function runEslLoad(
  placeCall: (spec: DoubleCallSpec) => Promise<DoubleCallResult>,
  opts: EslLoadOptions,
): Promise<EslLoadReport> {
  const total = Math.round(opts.rate * opts.seconds);
  const warmup = opts.warmupCalls ?? 0;
  const interval = 1000 / opts.rate;
  const measured: Array<Promise<DoubleCallResult>> = [];
  let placed = 0;
  const start = performance.now();
  let measureStart = start;
  while (placed < total + warmup) {
    const due = Math.floor((performance.now() - start) / interval) + 1;
    while (placed < Math.min(due, total + warmup)) {
      if (placed === warmup) measureStart = performance.now();
      const call = placeCall(opts.specs[placed % opts.specs.length]);
      if (placed >= warmup) measured.push(call);
      placed++;
    }
    await sleep(Math.max(0, start + placed * interval - performance.now()));
  }
  const results = await Promise.all(measured);
  const elapsedMs = performance.now() - measureStart;
  const latencies: number[] = [];
  const ends: Record<string, number> = {};
  const perEnd: Record<string, number[]> = {};
  let leftInApp = 0;
  for (const r of results) {
    ends[r.end] = (ends[r.end] ?? 0) + 1;
    if (r.leftInApp) leftInApp++;
    if (r.latencyMs !== undefined) {
      latencies.push(r.latencyMs);
      perEnd[r.end] ??= [];
      perEnd[r.end].push(r.latencyMs);
    }
  }
  latencies.sort((a, b) => a - b);
  const byEnd: Record<string, { p50Ms: number; p99Ms: number }> = {};
  for (const [end, list] of Object.entries(perEnd)) {
    list.sort((a, b) => a - b);
    byEnd[end] = { p50Ms: round(percentile(list, 50)), p99Ms: round(percentile(list, 99)) };
  }
  return {
    placed,
    measured: results.length,
    elapsedMs: round(elapsedMs),
    callsPerSec: round((results.length * 1000) / elapsedMs),
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? Number.NaN),
    ends,
    byEnd,
    leftInApp,
  };
}
