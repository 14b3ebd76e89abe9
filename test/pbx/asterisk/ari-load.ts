import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LatencyFigures, latencyFigures, type PaceOptions, paceCalls, round } from '../load-pacing.js';
import type { AriDouble, DoubleCall, DoubleCallSpec } from './ari-double.js';

export interface LoadOptions extends PaceOptions {
  readonly specs: readonly DoubleCallSpec[];
  /** How long to wait for the last calls to leave Stasis. */
  readonly settleMs?: number;
}

/** Latency figures: StasisStart sent → continue/DELETE received at the double. */
export interface LoadReport extends LatencyFigures {
  readonly placed: number;
  readonly completed: number;
  readonly failedToPlace: number;
  readonly elapsedMs: number;
  readonly callsPerSec: number;
  readonly ends: Record<string, number>;
  readonly leftInStasis: number;
}

/** Places calls into the double at a steady rate (catching up if a timer fires late) and measures them. */
export async function runLoad(double: AriDouble, opts: LoadOptions): Promise<LoadReport> {
  const measured: DoubleCall[] = [];
  let failedToPlace = 0;
  const { start } = await paceCalls(opts, (i, measure) => {
    const call = double.placeCall(opts.specs[i % opts.specs.length]);
    if (!call) failedToPlace++;
    else if (measure) measured.push(call);
  });
  const settle = sleep(opts.settleMs ?? 5_000);
  await Promise.race([Promise.all(measured.map((c) => c.done)), settle]);
  const elapsedMs = performance.now() - start;
  const latencies: number[] = [];
  const ends: Record<string, number> = {};
  let lastEnd = start;
  for (const c of measured) {
    ends[c.end ?? 'in-stasis'] = (ends[c.end ?? 'in-stasis'] ?? 0) + 1;
    if (c.endedAt !== undefined) {
      latencies.push(c.endedAt - c.stasisStartAt);
      if (c.endedAt > lastEnd) lastEnd = c.endedAt;
    }
  }
  latencies.sort((a, b) => a - b);
  const firstStart = measured[0]?.stasisStartAt ?? start;
  return {
    placed: measured.length,
    completed: latencies.length,
    failedToPlace,
    elapsedMs: round(elapsedMs),
    callsPerSec: round((latencies.length * 1000) / Math.max(1, lastEnd - firstStart)),
    ...latencyFigures(latencies),
    ends,
    leftInStasis: double.inStasis(),
  };
}
