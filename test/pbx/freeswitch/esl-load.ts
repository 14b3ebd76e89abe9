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
  /** Outbound mode: the channel's 20 ms ticks per outcome (1 = the whole outcome in the first tick). */
  readonly ticks?: { p50: number; p99: number; max: number; histogram: Record<string, number> };
  /** Outbound mode: channel data → the app's `exit` read, ms (the app's own share of the latency). */
  readonly app?: { p50Ms: number; p99Ms: number };
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
  const ticks: number[] = [];
  const appMs: number[] = [];
  for (const r of results) {
    if (r.ticks !== undefined) ticks.push(r.ticks);
    if (r.appLatencyMs !== undefined) appMs.push(r.appLatencyMs);
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
  ticks.sort((a, b) => a - b);
  appMs.sort((a, b) => a - b);
  const histogram: Record<string, number> = {};
  for (const t of ticks) histogram[t] = (histogram[t] ?? 0) + 1;
  return {
    ...(ticks.length > 0
      ? {
          ticks: {
            p50: percentile(ticks, 50),
            p99: percentile(ticks, 99),
            max: ticks[ticks.length - 1],
            histogram,
          },
          app: { p50Ms: round(percentile(appMs, 50)), p99Ms: round(percentile(appMs, 99)) },
        }
      : {}),
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
