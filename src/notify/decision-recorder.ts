import type { DecisionObserver, Screening } from '../call/call-screener.js';
import type { IncomingCall } from '../call/incoming-call.js';
import type { Logger } from '../log.js';
import { CallTally } from '../store/call-stats.js';
import { writeDecisionBatch } from '../store/decision-batch.js';
import type { HitCell } from '../store/hit-counters.js';
import { TENANT_ID } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { AuditRing } from './audit-ring.js';
import { groupBy } from './group-by.js';
import { notifyDroppedTotal } from './notify-metrics.js';

export type { AuditRecord } from '../store/decision-log.js';

export interface DecisionRecorderOptions {
  /** Name of this call node, stored with each decision. */
  readonly node: string;
  /** Share of allow decisions recorded (0..1); blocks and failure-policy decisions are always recorded. */
  readonly allowSampleRate: number;
  /** Records held between flushes / during a Redis outage; beyond it the oldest are dropped (counted). */
  readonly bufferCapacity: number;
  /** Flush period, ms. */
  readonly flushMs: number;
  /** Records that trigger a write before the period ends. */
  readonly batchSize: number;
  /** Cap of each tenant's decision stream (MAXLEN ~). */
  readonly streamMaxLen: number;
}

export const DEFAULT_RECORDER_OPTIONS: DecisionRecorderOptions = Object.freeze({
  node: 'node',
  allowSampleRate: 1,
  bufferCapacity: 50_000,
  flushMs: 1000,
  batchSize: 1000,
  streamMaxLen: 100_000,
});

const OPERATION_CODE = { none: 0, auto_wrap_up: 1, pop_up: 2 } as const;

/**
 * The DecisionObserver of a live node: decision audit and per-rule hit counters. observe() runs on
 * the call path and only touches memory (a few slots of a columnar ring per recorded decision, a
 * counter bump per hit);
 * a timer writes everything in batches, one pipeline per tenant. During a Redis outage hit counts
 * keep aggregating in memory (bounded by the number of rules) and audit records wait in a bounded
 * buffer (oldest dropped beyond it, counted as callguard_notify_dropped_total{kind="audit"}).
 */
export class DecisionRecorder implements DecisionObserver {
  private readonly options: DecisionRecorderOptions;
  private readonly audit: AuditRing;
  private hits = new Map<string, Map<number, HitCell>>();
  /** Every screened call, per minute (allows are counted even when their audit is sampled out). */
  private readonly tally = new CallTally();
  private sampleCredit = 0;
  private soon = false;
  private readonly flushSoon = (): void => {
    this.soon = false;
    this.kick();
  };
  private readonly samplePpm: number;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private reportedDrops = 0;
  written = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly log: Logger,
    options: Partial<DecisionRecorderOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECORDER_OPTIONS, ...options };
    this.audit = new AuditRing(this.options.bufferCapacity, this.options.node);
    this.samplePpm = Math.round(Math.min(1, Math.max(0, this.options.allowSampleRate)) * 1_000_000);
  }

  // hot path
  observe(call: IncomingCall, screening: Screening): void {
    // Not a tenant id (a bad CALLGUARD_TENANT): no key can hold it; the failure policy answered the call.
    if (!TENANT_ID.test(call.tenant)) return;
    const { decision, ctx, plan } = screening;
    const ruleId = decision?.ruleId ?? 0;
    const at = ctx?.at ?? Date.now();
    this.tally.count(call.tenant, at, plan.result === 'block', ruleId);
    if (ruleId !== 0) {
      let rules = this.hits.get(call.tenant);
      if (rules === undefined) {
        rules = new Map();
        this.hits.set(call.tenant, rules);
      }
      const cell = rules.get(ruleId);
      if (cell === undefined) rules.set(ruleId, { count: 1, last: at });
      else {
        cell.count++;
        if (at > cell.last) cell.last = at;
      }
    }
    if (plan.result === 'allow' && decision !== null) {
      // Integer credit (parts per million) so that a rate of 0.1 keeps exactly every tenth allow.
      this.sampleCredit += this.samplePpm;
      if (this.sampleCredit < 1_000_000) return;
      this.sampleCredit -= 1_000_000;
    }
    this.audit.push(
      call.tenant,
      at,
      call.callId,
      call.direction,
      ctx?.called ?? call.called,
      ctx?.calling ?? call.calling ?? '',
      call.task ?? '',
      plan.result === 'block',
      ruleId,
      decision === null ? 2 : decision.policy ? 3 : ruleId === 0 ? 1 : 0,
      decision === null ? 0 : OPERATION_CODE[decision.outcome.operation],
      call.agent ?? '',
      decision?.policy ? `${decision.policy.id}\x1f${decision.policy.reason}` : '',
    );
    // Write soon after a batch fills: records that die young cost the GC little, records kept
    // for a whole flush period get promoted to the old generation and cost far more. Not while
    // writes fail: then the timer paces the retries.
    if (this.audit.size >= this.options.batchSize && !this.soon && this.failures === 0) {
      this.soon = true;
      setImmediate(this.flushSoon);
    }
  }

  get bufferedAudit(): number {
    return this.audit.size;
  }

  get droppedAudit(): number {
    return this.audit.dropped;
  }

  start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => this.kick(), this.options.flushMs);
      this.timer.unref();
    }
    return this;
  }

  /** A background write, unless one is under way (timers must not queue up behind a slow Redis). */
  private kick(): void {
    if (!this.flushing) void this.flush();
  }

  /**
   * Writes what is buffered now (after a write already under way); a failed write puts it back for
   * the next round. Never rejects.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.writeOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeOnce(): Promise<void> {
    const dropped = this.audit.dropped;
    if (dropped > this.reportedDrops) {
      notifyDroppedTotal.inc({ kind: 'audit' }, dropped - this.reportedDrops);
      this.log.warn(
        { dropped: dropped - this.reportedDrops },
        'decision audit buffer full: oldest records dropped',
      );
      this.reportedDrops = dropped;
    }
    if (this.audit.size === 0 && this.hits.size === 0 && this.tally.size === 0) return;
    if (this.client.status !== 'ready') {
      this.noteFailure(new Error(`Redis connection is ${this.client.status}`));
      return;
    }
    const records = this.audit.drain();
    const hits = this.hits;
    this.hits = new Map();
    const counted = this.tally.drain();
    const byTenant = groupBy(records, (r) => r.tenant);
    for (const tenant of hits.keys()) if (!byTenant.has(tenant)) byTenant.set(tenant, []);
    for (const tenant of counted.keys()) if (!byTenant.has(tenant)) byTenant.set(tenant, []);
    const done = await Promise.allSettled(
      [...byTenant].map(async ([tenant, list]) => {
        await writeDecisionBatch(
          this.client,
          tenant,
          list,
          hits.get(tenant),
          this.options.streamMaxLen,
          counted.get(tenant),
        );
        return tenant;
      }),
    );
    let failed: unknown;
    const tenants = [...byTenant.keys()];
    done.forEach((d, i) => {
      const tenant = tenants[i]!;
      if (d.status === 'fulfilled') {
        this.written += byTenant.get(tenant)!.length;
        return;
      }
      failed = d.reason;
      // Put it back: counts merge into what arrived meanwhile, records go in front (bounded).
      this.audit.unshift(byTenant.get(tenant)!);
      const cells = hits.get(tenant);
      if (cells) this.mergeHits(tenant, cells);
      const minutes = counted.get(tenant);
      if (minutes) this.tally.restore(tenant, minutes);
    });
    if (failed) this.noteFailure(failed);
    else if (this.failures > 0) {
      this.log.info('decision audit and hit counters are being written again');
      this.failures = 0;
    }
  }

  private mergeHits(tenant: string, cells: Map<number, HitCell>): void {
    let rules = this.hits.get(tenant);
    if (!rules) {
      rules = new Map();
      this.hits.set(tenant, rules);
    }
    for (const [id, c] of cells) {
      const cur = rules.get(id);
      if (!cur) rules.set(id, c);
      else {
        cur.count += c.count;
        cur.last = Math.max(cur.last, c.last);
      }
    }
  }

  private noteFailure(error: unknown): void {
    this.failures++;
    if (this.failures === 1 || this.failures % 60 === 0) {
      this.log.warn(
        { err: error, buffered: this.audit.size },
        'decision audit not written yet; kept in memory',
      );
    }
  }

  /** Stops the timer after one last flush. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
