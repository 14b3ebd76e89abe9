import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PaceOptions {
  /** Calls placed per second. */
  readonly rate: number;
  readonly seconds: number;
  /** Calls placed before measuring (left out of the figures). */
  readonly warmupCalls?: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Calls `place(index, measured)` at a steady rate, catching up when a timer fires late; the first
 * warmupCalls are placed unmeasured. Resolves when all are placed, with when pacing started and when
 * the first measured call was placed (performance.now()).
 */
export async function paceCalls(
  opts: PaceOptions,
  place: (index: number, measured: boolean) => void,
): Promise<{ start: number; measureStart: number }> {
  const warmup = opts.warmupCalls ?? 0;
  const total = Math.round(opts.rate * opts.seconds) + warmup;
  const interval = 1000 / opts.rate;
  let placed = 0;
  const start = performance.now();
  let measureStart = start;
  while (placed < total) {
    const due = Math.floor((performance.now() - start) / interval) + 1;
    while (placed < Math.min(due, total)) {
      if (placed === warmup) measureStart = performance.now();
      place(placed, placed >= warmup);
      placed++;
    }
    await sleep(Math.max(0, start + placed * interval - performance.now()));
  }
  return { start, measureStart };
}

/** Decision latency at the double, ms. */
export interface LatencyFigures {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The figures of latencies sorted ascending. */
export function latencyFigures(sorted: number[]): LatencyFigures {
  return {
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}
