import type { Logger } from '../log.js';
import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import type { TenantSyncStatus } from './tenant-sync.js';

/** One call node's rule sync for one tenant, as the node last reported it. */
export interface NodeReport {
  readonly node: string;
  /** When the node wrote this report (ISO). */
  readonly reportedAt: string;
  readonly loaded: boolean;
  /** The rules version (change id) the node answers from. */
  readonly version: string;
  readonly rules: number;
  /** Whether the node was reading the change stream when it reported. */
  readonly connected: boolean;
  /**
   * Seconds the node may be behind now: its own staleness at the report plus the report's age beyond
   * one period (a node that lost Redis cannot report, so its silence counts); null: never loaded.
   */
  readonly stalenessSeconds: number | null;
}

export const NODE_REPORT_MS = 10_000;
/** A node silent this long is taken for gone (stopped, renamed) and its report removed when read. */
const FORGET_AFTER_MS = 24 * 3600_000;

interface StoredReport {
  at: number;
  loaded: boolean;
  version: string;
  rules: number;
  connected: boolean;
  /** Staleness at `at`, seconds; -1 when never loaded. */
  stale: number;
}

/**
 * Call nodes report their rule sync to Redis, per tenant, every NODE_REPORT_MS (one HSET per tenant
 * in one pipeline, off the call path), so that the dashboard can show how far behind each node is.
 */
export class NodeReporter {
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly node: string,
    private readonly status: () => readonly TenantSyncStatus[],
    private readonly log: Logger,
    private readonly periodMs = NODE_REPORT_MS,
  ) {}

  start(): this {
    if (!this.timer) {
      void this.report();
      this.timer = setInterval(() => void this.report(), this.periodMs);
      this.timer.unref();
    }
    return this;
  }

  /** Writes one report per tenant; never rejects (a failure is logged once per outage). */
  async report(now: number = Date.now()): Promise<void> {
    if (this.client.status !== 'ready') return;
    const pipeline = this.client.pipeline();
    for (const s of this.status()) {
      const stored: StoredReport = {
        at: now,
        loaded: s.loaded,
        version: s.version,
        rules: s.rules,
        connected: s.connected,
        stale: Number.isFinite(s.stalenessSeconds) ? Math.round(s.stalenessSeconds) : -1,
      };
      pipeline.hset(notifyKeys(s.tenant).nodes, this.node, JSON.stringify(stored));
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
      this.failures = 0;
    } catch (error) {
      if (this.failures++ === 0) this.log.warn({ err: error }, 'node sync report not written; retrying');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The reports of every call node that screened calls for a tenant lately, node name order. */
export async function readNodeReports(
  client: RedisClient,
  tenant: string,
  now: number = Date.now(),
): Promise<NodeReport[]> {
  const key = notifyKeys(tenant).nodes;
  const all = (await client.hgetall(key)) as Record<string, string>;
  const out: NodeReport[] = [];
  const gone: string[] = [];
  for (const [node, json] of Object.entries(all)) {
    let r: StoredReport;
    try {
      r = JSON.parse(json) as StoredReport;
    } catch {
      gone.push(node);
      continue;
    }
    const age = Math.max(0, now - r.at);
    if (age > FORGET_AFTER_MS) {
      gone.push(node);
      continue;
    }
    const silent = Math.max(0, age - NODE_REPORT_MS) / 1000;
    out.push({
      node,
      reportedAt: new Date(r.at).toISOString(),
      loaded: r.loaded,
      version: r.version,
      rules: r.rules,
      connected: r.connected,
      stalenessSeconds: r.stale < 0 ? null : Math.round(r.stale + silent),
    });
  }
  if (gone.length > 0) await client.hdel(key, ...gone);
  return out.sort((a, b) => a.node.localeCompare(b.node));
}
