import { backoffMs } from '../backoff.js';
import type { CallEvent, CallEventSink } from '../call/call-events.js';
import type { Logger } from '../log.js';
import { BoundedBuffer } from '../store/bounded-buffer.js';
import { appendEvents, type EventEntry } from '../store/event-stream-writer.js';
import { TENANT_ID } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { groupBy } from './group-by.js';
import { envelope, fromCallEvent, type NotifyEvent, type NotifyInput } from './notify-event.js';
import { notifyDroppedTotal } from './notify-metrics.js';
import type { WebhookJobData } from './webhook-job.js';
import type { WebhookQueue } from './webhook-queue.js';
import { delivers, targetOf, type WebhookSettings } from './webhook-settings.js';

export interface NotifierOptions {
  /** Events held in memory while Redis is away; beyond it the oldest are dropped (counted, logged). */
  readonly bufferCapacity: number;
  /** Events written per round trip. */
  readonly batchSize: number;
  /** Cap of each tenant's event stream (MAXLEN ~). */
  readonly streamMaxLen: number;
  /** First wait before retrying a failed write; doubles up to 5 s. */
  readonly retryMs: number;
  /** A write that takes longer counts as failed (its events are written again; the event id de-duplicates). */
  readonly writeTimeoutMs: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = Object.freeze({
  bufferCapacity: 10_000,
  batchSize: 500,
  streamMaxLen: 10_000,
  retryMs: 100,
  writeTimeoutMs: 5000,
});

export interface NotifierDeps {
  readonly client: RedisClient;
  readonly queue: WebhookQueue;
  readonly settingsFor: (tenant: string) => Promise<WebhookSettings>;
  readonly log: Logger;
  readonly options?: Partial<NotifierOptions>;
  readonly now?: () => number;
}

interface Pending {
  readonly event: NotifyEvent;
  /** The event's place among this node's events (creation ms × 1024 + sequence in the ms). */
  readonly order: number;
  body?: string;
}

/**
 * The CallEventSink of a live node, and the publisher for other parts (bulk jobs). emit()/publish()
 * only push into a bounded in-memory buffer and return: the call path never waits. A background
 * loop writes batches to the tenant's event stream and the durable webhook queue; if Redis is down
 * the events stay buffered and the loop retries with backoff, so a burst during an outage is
 * delivered once Redis is back. Only when the buffer overflows are events dropped: oldest first,
 * counted (callguard_notify_dropped_total) and logged.
 */
export class Notifier implements CallEventSink {
  private readonly buffer: BoundedBuffer<Pending>;
  private readonly options: NotifierOptions;
  private readonly now: () => number;
  private scheduled = false;
  private running: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastDropLog = 0;
  private loggedDrops = 0;
  private droppedTotal = 0;
  private closed = false;
  private lastMs = 0;
  private inMs = 0;
  /** Events written to Redis since start. */
  written = 0;

  constructor(private readonly deps: NotifierDeps) {
    this.options = { ...DEFAULT_NOTIFIER_OPTIONS, ...deps.options };
    this.now = deps.now ?? Date.now;
    this.buffer = new BoundedBuffer(this.options.bufferCapacity);
  }

  /** CallEventSink: a pop-up or wrap-up fired by the call path. Synchronous; never throws. */
  emit(event: CallEvent): void {
    this.publish(fromCallEvent(event));
  }

  /**
   * Publishes an event (call events, `import.finished`, `export.finished`). Returns its id (the
   * idempotency key receivers see) at once; delivery happens later.
   */
  publish(input: NotifyInput): string {
    const t = this.now();
    const event = envelope(input, t);
    if (this.closed) {
      this.countDrop('closed');
    } else if (!TENANT_ID.test(event.tenant)) {
      // A tenant id that cannot name a key (a bad CALLGUARD_TENANT) would fail every batch it is in.
      this.countDrop('bad-tenant');
    } else {
      if (!this.buffer.push({ event, order: this.orderAt(t) })) this.countDrop('full');
      this.schedule();
    }
    return event.id;
  }

  /** Two events of an agent created in the same millisecond keep the order they were published in. */
  private orderAt(t: number): number {
    this.inMs = t === this.lastMs ? Math.min(this.inMs + 1, 1023) : 0;
    this.lastMs = t;
    return t * 1024 + this.inMs;
  }

  /** Events waiting to be written. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** Events dropped since start (buffer full, bad tenant id, or published after close). */
  get dropped(): number {
    return this.droppedTotal;
  }

  private countDrop(reason: 'full' | 'bad-tenant' | 'closed'): void {
    this.droppedTotal++;
    notifyDroppedTotal.inc({ kind: 'event' });
    const t = this.now();
    if (t - this.lastDropLog < 10_000) return;
    const message =
      reason === 'full'
        ? 'notify buffer full: oldest events dropped (Redis unreachable?)'
        : reason === 'bad-tenant'
          ? 'event of a tenant id that is not valid dropped (check CALLGUARD_TENANT in the dialplan)'
          : 'event published after the notifier closed dropped';
    this.deps.log.error(
      {
        reason,
        dropped: this.droppedTotal,
        sinceLastLog: this.droppedTotal - this.loggedDrops,
        capacity: this.buffer.capacity,
      },
      message,
    );
    this.lastDropLog = t;
    this.loggedDrops = this.droppedTotal;
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = null;
        if (this.buffer.size > 0 && !this.retryTimer && !this.closed) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.size > 0) {
      const batch = this.buffer.peek(this.options.batchSize);
      try {
        await this.withTimeout(this.write(batch));
      } catch (error) {
        this.failures++;
        const wait = backoffMs(this.failures, {
          firstMs: this.options.retryMs,
          maxMs: 5000,
          maxDoublings: 6,
        });
        if (this.failures === 1 || this.failures % 50 === 0) {
          this.deps.log.warn(
            { err: error, buffered: this.buffer.size, retryInMs: wait },
            'events not written yet; kept in memory, retrying',
          );
        }
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.schedule();
          }, wait);
          this.retryTimer.unref();
        }
        return;
      }
      if (this.failures > 0)
        this.deps.log.info({ buffered: this.buffer.size }, 'events are being written again');
      this.failures = 0;
      this.buffer.shift(batch.length);
      this.written += batch.length;
    }
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`write took over ${this.options.writeTimeoutMs} ms`)),
        this.options.writeTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private async write(batch: readonly Pending[]): Promise<void> {
    // ioredis would queue commands while disconnected; fail fast instead and keep our own bounded buffer.
    if (this.deps.client.status !== 'ready')
      throw new Error(`Redis connection is ${this.deps.client.status}`);
    const byTenant = groupBy(batch, (p) => p.event.tenant);
    const jobs: WebhookJobData[] = [];
    const writes: Array<Promise<unknown>> = [];
    for (const [tenant, events] of byTenant) {
      const settings = await this.deps.settingsFor(tenant);
      // One round trip per tenant: its keys share one slot, so this also runs on Redis Cluster.
      const entries: EventEntry[] = [];
      for (const p of events) {
        const { event } = p;
        if (settings.disabledEvents.has(event.type)) continue;
        p.body ??= JSON.stringify(event);
        entries.push({ id: event.id, type: event.type, body: p.body });
        const target = targetOf(event.type);
        if (delivers(settings, target)) {
          const agent = (event.data as { agent?: unknown }).agent;
          jobs.push({
            tenant,
            eventId: event.id,
            type: event.type,
            target,
            body: p.body,
            ...(typeof agent === 'string' ? { agent } : {}),
            order: p.order,
          });
        }
      }
      writes.push(appendEvents(this.deps.client, tenant, entries, this.options.streamMaxLen));
    }
    await Promise.all(writes);
    await this.deps.queue.enqueue(jobs);
  }

  /** Resolves when everything buffered is written, or after `timeoutMs` (false then). */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.size > 0 || this.running) {
      if (Date.now() >= deadline) return false;
      if (!this.running && !this.retryTimer) this.schedule();
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Stops taking events after writing what is buffered (up to `timeoutMs`). */
  async close(timeoutMs = 5000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const lost = this.buffer.drain().length;
    if (lost > 0) {
      this.droppedTotal += lost;
      notifyDroppedTotal.inc({ kind: 'event' }, lost);
      this.deps.log.error({ lost }, 'notifier closed with events not written');
    }
  }
}
