import type { Logger } from '../log.js';
import {
  type DecisionQuery,
  decodeLoggedDecision,
  type LoggedDecision,
  matchesDecision,
} from '../store/decision-log.js';
import { comparePositions } from '../store/event-stream-reader.js';
import { notifyKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { TenantTails } from './tenant-tails.js';

type Row = [string, string[]];

export interface DecisionFeedOptions {
  readonly heartbeatMs: number;
  /** Longest XREAD BLOCK; also how long a stopped tail may take to notice. */
  readonly blockMs: number;
  /** Decisions held for a stream still replaying; beyond it the stream is closed (the client reconnects). */
  readonly maxQueued: number;
  /** Most decisions replayed after a Last-Event-ID. */
  readonly maxReplay: number;
  /** A tenant's reader stays this long after its last stream closed. */
  readonly idleStopMs: number;
}

export const DEFAULT_FEED_OPTIONS: DecisionFeedOptions = Object.freeze({
  heartbeatMs: 15_000,
  blockMs: 5_000,
  maxQueued: 10_000,
  maxReplay: 1_000,
  idleStopMs: 10_000,
});

/** Where a stream's decisions go; `end` closes the client's connection. */
export interface DecisionSink {
  decision(d: LoggedDecision): void;
  heartbeat(): void;
  end(reason: 'shutdown' | 'overflow'): void;
}

/** One client's stream: decisions after its cursor that pass its filters, each once, in stream order. */
export class DecisionSubscription {
  private live = false;
  private closed = false;
  private readonly queued: LoggedDecision[] = [];

  constructor(
    private cursor: string,
    private readonly filter: DecisionQuery,
    private readonly sink: DecisionSink,
    private readonly maxQueued: number,
    private readonly onClose: (s: DecisionSubscription) => void,
  ) {}

  offer(d: LoggedDecision): void {
    if (this.closed) return;
    if (this.live) this.deliver(d);
    else if (this.queued.push(d) > this.maxQueued) this.end('overflow');
  }

  deliver(d: LoggedDecision): void {
    if (this.closed || comparePositions(d.id, this.cursor) <= 0) return;
    this.cursor = d.id;
    if (matchesDecision(d, this.filter)) this.sink.decision(d);
  }

  goLive(): void {
    for (const d of this.queued.splice(0)) this.deliver(d);
    this.live = true;
  }

  heartbeat(): void {
    if (!this.closed) this.sink.heartbeat();
  }

  /** Idempotent; with a reason the client's connection is closed too. */
  end(reason?: 'shutdown' | 'overflow'): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.length = 0;
    if (reason) this.sink.end(reason);
    this.onClose(this);
  }
}

export interface DecisionFeedDeps {
  readonly client: RedisClient;
  /** A fresh connection for one tenant's blocking read. */
  readonly connect: () => RedisClient;
  readonly log: Logger;
  readonly options?: Partial<DecisionFeedOptions>;
}

/**
 * The live decisions of every tenant watched on this API node (GET /v1/decisions/stream): per tenant
 * one XREAD BLOCK reader of `cg:{tenant}:decisions`, however many consoles follow it, each stream
 * with its own filters. Decisions appear as the call nodes write them (about once a second).
 */
export class DecisionFeed {
  readonly options: DecisionFeedOptions;
  readonly client: RedisClient;
  readonly connect: () => RedisClient;
  readonly log: Logger;
  private readonly tails: TenantTails<DecisionSubscription, Row>;

  constructor(deps: DecisionFeedDeps) {
    this.options = { ...DEFAULT_FEED_OPTIONS, ...deps.options };
    this.client = deps.client;
    this.connect = deps.connect;
    this.log = deps.log;
    this.tails = new TenantTails<DecisionSubscription, Row>(
      {
        start: async (tenant) => {
          const rows = (await this.client.xrevrange(
            notifyKeys(tenant).decisions,
            '+',
            '-',
            'COUNT',
            1,
          )) as Row[];
          return rows[0]?.[0] ?? '0-0';
        },
        read: async (connection, tenant, position) => {
          const res = (await connection.xread(
            'COUNT',
            1000,
            'BLOCK',
            this.options.blockMs,
            'STREAMS',
            notifyKeys(tenant).decisions,
            position,
          )) as Array<[string, Row[]]> | null;
          return res?.[0]?.[1] ?? [];
        },
        positionOf: (row) => row[0],
        offer: (row, subs) => {
          const d = decodeLoggedDecision(row);
          for (const s of subs) s.offer(d);
        },
        failed: (error, tenant) => {
          this.log.warn(
            { err: error, key: notifyKeys(tenant).decisions },
            'decision streams: reading failed; retrying',
          );
        },
      },
      () => this.connect(),
      this.options,
    );
  }

  get streams(): number {
    return this.tails.streams;
  }

  /**
   * Opens a stream of the tenant's decisions passing `filter`, from now on, or after the decision
   * `after` (a Last-Event-ID: at most maxReplay decisions are replayed first).
   */
  async subscribe(
    tenant: string,
    filter: DecisionQuery,
    sink: DecisionSink,
    after?: string,
  ): Promise<DecisionSubscription> {
    if (this.tails.closed) throw new Error('the decision feed is closed');
    const t = await this.tails.open(tenant);
    const replayFrom = after !== undefined && comparePositions(after, t.position) < 0 ? after : undefined;
    const sub = new DecisionSubscription(
      replayFrom ?? t.position,
      filter,
      sink,
      this.options.maxQueued,
      (s) => t.remove(s),
    );
    t.add(sub);
    if (replayFrom !== undefined) {
      try {
        const rows = (await this.client.xrange(
          notifyKeys(tenant).decisions,
          `(${replayFrom}`,
          '+',
          'COUNT',
          this.options.maxReplay,
        )) as Row[];
        for (const row of rows) sub.deliver(decodeLoggedDecision(row));
      } catch (error) {
        sub.end();
        throw error;
      }
    }
    sub.goLive();
    return sub;
  }

  close(): void {
    this.tails.close();
  }
}
