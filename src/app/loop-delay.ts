import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import { metricsRegistry, onCollect } from '../metrics.js';

const loopDelay = new Gauge({
  name: 'callguard_event_loop_delay_seconds',
  help: 'How late this process ran its event loop (p50, p99, max) since the previous scrape: a call process above 0.01 is holding calls up.',
  labelNames: ['stat'] as const,
  registers: [metricsRegistry],
});

/** Sampling interval of the delay monitor: fine enough to see a 10 ms stall, cheap enough to leave on. */
const RESOLUTION_MS = 5;

/**
 * Measures this process's event-loop delay (perf_hooks) and shows it at every scrape, then starts a
 * new window: each scrape reports the stalls since the one before. Returns a function that stops it.
 */
export function monitorLoopDelay(): () => void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const stop = onCollect(() => {
    // The histogram records each interval between the monitor's timer runs: the delay is what
    // exceeds the resolution.
    const seconds = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1e3 : 0);
    loopDelay.set({ stat: 'p50' }, seconds(histogram.percentile(50)));
    loopDelay.set({ stat: 'p99' }, seconds(histogram.percentile(99)));
    loopDelay.set({ stat: 'max' }, seconds(histogram.max));
    histogram.reset();
  });
  return () => {
    stop();
    histogram.disable();
  };
}
