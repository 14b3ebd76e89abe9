import { performance } from 'node:perf_hooks';
import {
  type LatencyFigures,
  latencyFigures,
  type PaceOptions,
  paceCalls,
  percentile,
  round,
} from '../load-pacing.js';
import type { DoubleCallResult, DoubleCallSpec } from './esl-double-common.js';

export interface EslLoadOptions extends PaceOptions {
  readonly specs: readonly DoubleCallSpec[];
}

/** Latency figures: channel data / CHANNEL_PARK written → last command of the outcome read at the double. */
export interface EslLoadReport extends LatencyFigures {
  readonly placed: number;
  readonly measured: number;
  readonly elapsedMs: number;
  readonly callsPerSec: number;
  readonly ends: Record<string, number>;
  /** The same latency split by how the call ended (continue waits for FreeSWITCH to confirm the sets). */
  readonly byEnd: Record<string, { p50Ms: number; p99Ms: number }>;
  readonly leftInApp: number;
}

/** Places calls at a steady rate (catching up when a timer fires late) and measures them at the double. */
export async function runEslLoad(
  placeCall: (spec: DoubleCallSpec) => Promise<DoubleCallResult>,
  opts: EslLoadOptions,
): Promise<EslLoadReport> {
  const measured: Array<Promise<DoubleCallResult>> = [];
  let placed = 0;
  const { measureStart } = await paceCalls(opts, (i, measure) => {
    const call = placeCall(opts.specs[i % opts.specs.length]);
    if (measure) measured.push(call);
    placed++;
  });
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
    ...latencyFigures(latencies),
    ends,
    byEnd,
    leftInApp,
  };
}
