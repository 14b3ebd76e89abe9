import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { PlainHistogram } from './plain-histogram.js';

/**
 * The one Prometheus registry of a callguard process, served at `/metrics`. Any component adds its
 * own metrics here (`new Counter({ ..., registers: [metricsRegistry] })`) or through the helpers
 * below; names start with `callguard_`. Gauges that mirror state elsewhere (index size, staleness)
 * are filled by collect callbacks registered with onCollect(), so nothing is updated on the call path.
 */
export const metricsRegistry = new Registry();

const collectors: Array<() => void> = [];

/** Runs `fn` right before every scrape: the place to copy state into gauges. */
export function onCollect(fn: () => void): () => void {
  collectors.push(fn);
  return () => {
    const i = collectors.indexOf(fn);
    if (i >= 0) collectors.splice(i, 1);
  };
}

/** Every metric of this process as prom-client JSON (what another process merges into its scrape). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

const sources: Array<() => Promise<MetricsJson[]>> = [];

/**
 * Adds the metrics of other processes to this process's scrape (`callguard serve` runs the call
 * roles apart: their counters reach /metrics through the supervisor). Their series must carry a
 * label that sets them apart (e.g. `proc`), since series of one name and labels are summed.
 */
export function addMetricsSource(source: () => Promise<MetricsJson[]>): () => void {
  sources.push(source);
  return () => {
    const i = sources.indexOf(source);
    if (i >= 0) sources.splice(i, 1);
  };
}

/** A counter series that a hot path adds to; see plainCounter. */
export interface PlainCounter {
  inc(n?: number): void;
}

/**
 * A series of `counter` for a hot path: inc() adds to a plain number, and the sum is handed to
 * prom-client right before a scrape (its inc() validates and hashes the labels on every call).
 */
export function plainCounter<L extends string>(counter: Counter<L>, ...labels: string[]): PlainCounter {
  const series = counter.labels(...labels);
  let pending = 0;
  onCollect(() => {
    if (pending === 0) return;
    const n = pending;
    pending = 0;
    series.inc(n);
  });
  return {
    // hot path
    inc(n = 1): void {
      pending += n;
    },
  };
}

function runCollectors(): void {
  for (const fn of collectors) {
    try {
      fn();
    } catch {
      // a broken collector must not break the scrape
    }
  }
}

/** This process's metrics as JSON, after running the collect callbacks. */
export async function metricsJson(): Promise<MetricsJson> {
  runCollectors();
  return metricsRegistry.getMetricsAsJSON();
}

/** The text exposition of every metric, after running the collect callbacks. */
export async function scrapeMetrics(): Promise<{ contentType: string; body: string }> {
  runCollectors();
  if (sources.length === 0) {
    return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
  }
  const own = await metricsRegistry.getMetricsAsJSON();
  const others = await Promise.all(sources.map((s) => s().catch(() => [] as MetricsJson[])));
  const merged = AggregatorRegistry.aggregate([own, ...others.flat()]);
  return { contentType: metricsRegistry.contentType, body: await merged.metrics() };
}

/** Decisions made, by outcome (allow, block, failure) and direction; counted by the API and the PBX apps. */
export const decisionsTotal = new Counter({
  name: 'callguard_decisions_total',
  help: 'Decisions made, by action (allow | block | failure_policy), direction and source (api | ari | esl).',
  labelNames: ['action', 'direction', 'source'] as const,
  registers: [metricsRegistry],
});

/** Seconds one lookup (or one screened list) took. */
export const lookupSeconds = new PlainHistogram({
  name: 'callguard_lookup_seconds',
  help: 'Time of one decide() (check) or of one screened list (screen), in seconds.',
  labelNames: ['kind'] as const,
  buckets: [0.000_001, 0.000_005, 0.000_02, 0.000_1, 0.000_5, 0.002, 0.01, 0.05, 0.25, 1],
  registers: [metricsRegistry],
});

export const indexRules = new Gauge({
  name: 'callguard_index_rules',
  help: 'Rules in the in-memory index of each tenant on this node.',
  labelNames: ['tenant'] as const,
  registers: [metricsRegistry],
});

export const indexVersion = new Gauge({
  name: 'callguard_index_version_ms',
  help: 'The change-stream version (its millisecond part) each tenant index reflects.',
  labelNames: ['tenant'] as const,
  registers: [metricsRegistry],
});

export const stalenessSeconds = new Gauge({
  name: 'callguard_staleness_seconds',
  help: 'Seconds since this node last confirmed it had every rule change (largest over tenants).',
  registers: [metricsRegistry],
});

export const httpSeconds = new PlainHistogram({
  name: 'callguard_http_request_seconds',
  help: 'Admin API request time by route, method and status class.',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: [0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  registers: [metricsRegistry],
});

/** Bulk jobs by kind (import, export) and state (queued, active, completed, failed); filled by the worker. */
export const jobsTotal = new Counter({
  name: 'callguard_jobs_total',
  help: 'Bulk jobs by kind and final state.',
  labelNames: ['kind', 'state'] as const,
  registers: [metricsRegistry],
});

export const jobsActive = new Gauge({
  name: 'callguard_jobs',
  help: 'Bulk jobs currently in each state.',
  labelNames: ['kind', 'state'] as const,
  registers: [metricsRegistry],
});

/** Change stream entries a node could not decode (skipped; the tenant's rules were reloaded). */
export const syncBadEntriesTotal = new Counter({
  name: 'callguard_sync_bad_entries_total',
  help: 'Change stream entries this node could not decode: skipped, and the tenant reloaded',
  registers: [metricsRegistry],
});
