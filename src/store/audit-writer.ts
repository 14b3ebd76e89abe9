import { Counter, Gauge } from 'prom-client';
import { backoffMs } from '../backoff.js';
import type { Logger } from '../log.js';
import { metricsRegistry } from '../metrics.js';
import type { AuditEntryInput, AuditLimits, AuditRepository } from './audit-repository.js';
import { BoundedBuffer } from './bounded-buffer.js';

export const auditDroppedTotal = new Counter({
  name: 'callguard_audit_dropped_total',
  help: 'Admin audit entries dropped because the buffer was full during a long Redis outage.',
  registers: [metricsRegistry],
});
export const auditPending = new Gauge({
  name: 'callguard_audit_pending',
  help: 'Admin audit entries waiting to be written to Redis.',
  registers: [metricsRegistry],
});

/** Where routes record admin changes: never waits, never throws. */
export interface AuditSink {
  record(tenant: string, entry: AuditEntryInput): void;
}

export interface AuditWriterOptions {
  /** How soon after a change its entry is written, ms. */
  readonly flushMs: number;
  /** Entries held while Redis is away; beyond it the oldest are dropped (counted). */
  readonly capacity: number;
  /** The longest wait between retries while Redis is away, ms. */
  readonly maxRetryMs: number;
}

const DEFAULTS: AuditWriterOptions = { flushMs: 20, capacity: 100_000, maxRetryMs: 5_000 };
const LIMITS_TTL_MS = 60_000;

interface Pending {
  readonly tenant: string;
  readonly entry: AuditEntryInput;
}

/**
 * Writes audit entries off the request path: a route records into memory and answers; a timer
 * writes them in order, a pipeline per run of one tenant's entries. While Redis is away the entries
 * wait in a bounded buffer and the writer retries with backoff, so a blip loses nothing.
 */
export class AuditWriter implements AuditSink {
  private readonly options: AuditWriterOptions;
  private readonly buffer: BoundedBuffer<Pending>;
  private readonly limits = new Map<string, { value: AuditLimits; until: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;

  constructor(
    private readonly repo: AuditRepository,
    private readonly limitsOf: (tenant: string) => Promise<AuditLimits>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    options: Partial<AuditWriterOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.buffer = new BoundedBuffer(this.options.capacity);
  }

  record(tenant: string, entry: AuditEntryInput): void {
    if (!this.buffer.push({ tenant, entry })) auditDroppedTotal.inc();
    auditPending.set(this.buffer.size);
    this.schedule(this.options.flushMs);
  }

  get pending(): number {
    return this.buffer.size;
  }

  /** Writes everything recorded so far (or fails, leaving it buffered). */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** A last flush, bounded in time: entries still buffered after it are logged as lost. */
  async close(timeoutMs = 2_000): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush().catch(() => undefined),
      new Promise((resolve) => {
        bound = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(bound);
    if (this.buffer.size > 0) {
      this.log.error({ lost: this.buffer.size }, 'audit entries could not be written before shutdown');
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().then(
        () => {
          if (this.failures > 0) this.log.info({ retries: this.failures }, 'audit trail written again');
          this.failures = 0;
          if (this.buffer.size > 0) this.schedule(this.options.flushMs);
        },
        (error: unknown) => {
          if (this.failures++ === 0) {
            this.log.warn({ err: error, pending: this.buffer.size }, 'audit trail not written; retrying');
          }
          this.schedule(
            backoffMs(this.failures + 1, { firstMs: this.options.flushMs, maxMs: this.options.maxRetryMs }),
          );
        },
      );
    }, ms);
    this.timer.unref();
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.size > 0) {
      const head = this.buffer.peek(1000);
      const tenant = head[0]!.tenant;
      let run = 1;
      while (run < head.length && head[run]!.tenant === tenant) run++;
      const limits = await this.limitsFor(tenant);
      await this.repo.append(
        tenant,
        head.slice(0, run).map((p) => p.entry),
        limits,
        this.now(),
      );
      this.buffer.shift(run);
      auditPending.set(this.buffer.size);
    }
  }

  private async limitsFor(tenant: string): Promise<AuditLimits> {
    const cached = this.limits.get(tenant);
    if (cached && cached.until > this.now()) return cached.value;
    const value = await this.limitsOf(tenant);
    this.limits.set(tenant, { value, until: this.now() + LIMITS_TTL_MS });
    return value;
  }
}
