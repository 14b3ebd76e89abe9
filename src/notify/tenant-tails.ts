import { backoffMs } from '../backoff.js';
import type { RedisClient } from '../store/redis-client.js';

/** What a tail needs of one client's stream. */
export interface TailSubscription {
  heartbeat(): void;
  /** Closes the client's stream (the server is shutting down). */
  end(reason: 'shutdown'): void;
}

export interface TenantTailsOptions {
  /** A heartbeat goes to every open stream this often (proxies close idle connections). */
  readonly heartbeatMs: number;
  /** A tenant's reader stays this long after its last stream closed (reconnects reuse it). */
  readonly idleStopMs: number;
}

/** How one tenant's stream is read and what its rows mean to the subscriptions. */
export interface TailSource<S, R> {
  /** The position reading starts after: the stream's last entry now. */
  start(tenant: string): Promise<string>;
  /** One blocking read, on the tail's own connection, of the rows after `position`. */
  read(connection: RedisClient, tenant: string, position: string): Promise<readonly R[]>;
  /** The stream position of a row read. */
  positionOf(row: R): string;
  /** Hands a row to every open stream of the tenant, in stream order. */
  offer(row: R, subs: ReadonlySet<S>): void;
  /** Reading failed (told once per run of failures; the read is retried with a growing delay). */
  failed(error: unknown, tenant: string): void;
  /** A stream opened / closed (for a gauge). */
  opened?(): void;
  closed?(): void;
}

/**
 * One tenant's live reader on this node: a single XREAD BLOCK loop on a connection of its own,
 * handing every new row to all the tenant's open streams. Stops a while after its last stream.
 */
export class TenantTail<S extends TailSubscription, R> {
  readonly subs = new Set<S>();
  /** The last row read (every later row will be handed out). */
  position = '0-0';
  private connection: RedisClient | undefined;
  private stopped = false;
  private idleTimer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;

  constructor(
    readonly tenant: string,
    private readonly tails: TenantTails<S, R>,
  ) {
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    this.position = await this.tails.source.start(this.tenant);
    this.connection = this.tails.connect();
    void this.loop();
  }

  private async loop(): Promise<void> {
    const source = this.tails.source;
    // A connection just made (no offline queue, as the API's are) refuses commands until it is
    // ready: the first read would fail and log a Redis failure that is not one.
    await readyOrAfter(this.connection!, FIRST_READ_WAIT_MS);
    let failures = 0;
    while (!this.stopped) {
      try {
        const rows = await source.read(this.connection!, this.tenant, this.position);
        failures = 0;
        for (const row of rows) {
          this.position = source.positionOf(row);
          source.offer(row, this.subs);
        }
      } catch (error) {
        if (this.stopped) break;
        failures++;
        if (failures === 1) source.failed(error, this.tenant);
        const wait = backoffMs(failures + 1, { firstMs: 100, maxMs: 5_000, maxDoublings: 6 });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  add(s: S): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.subs.add(s);
    this.tails.source.opened?.();
  }

  remove(s: S): void {
    if (this.subs.delete(s)) this.tails.source.closed?.();
    if (this.subs.size > 0 || this.stopped) return;
    this.idleTimer = setTimeout(() => {
      if (this.subs.size === 0) this.tails.drop(this);
    }, this.tails.options.idleStopMs);
    this.idleTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    // Ends a pending XREAD BLOCK at once.
    this.connection?.disconnect();
  }
}

/**
 * The per-tenant readers of one kind of live stream on this node: per tenant ONE reader (however
 * many clients follow it), fanning out to every open stream of that tenant, plus one heartbeat
 * timer for all of them.
 */
export class TenantTails<S extends TailSubscription, R> {
  private readonly tails = new Map<string, TenantTail<S, R>>();
  private readonly heartbeat: NodeJS.Timeout;
  private isClosed = false;

  constructor(
    readonly source: TailSource<S, R>,
    /** A fresh connection for one tenant's blocking read. */
    readonly connect: () => RedisClient,
    readonly options: TenantTailsOptions,
  ) {
    this.heartbeat = setInterval(() => {
      for (const tail of this.tails.values()) for (const s of tail.subs) s.heartbeat();
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Open streams on this node. */
  get streams(): number {
    let n = 0;
    for (const t of this.tails.values()) n += t.subs.size;
    return n;
  }

  /** Tenants with a reader running. */
  get readers(): number {
    return this.tails.size;
  }

  /** The tenant's tail, started if need be, once it knows its position (one that cannot start is dropped). */
  async open(tenant: string): Promise<TenantTail<S, R>> {
    let tail = this.tails.get(tenant);
    if (!tail) {
      tail = new TenantTail(tenant, this);
      this.tails.set(tenant, tail);
    }
    try {
      await tail.ready;
    } catch (error) {
      this.drop(tail);
      throw error;
    }
    return tail;
  }

  /** A tail with no streams left (or one that could not start). */
  drop(tail: TenantTail<S, R>): void {
    if (this.tails.get(tail.tenant) === tail) this.tails.delete(tail.tenant);
    tail.stop();
  }

  /** Ends every stream (clients see the connection close and reconnect elsewhere) and stops the readers. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.heartbeat);
    for (const tail of [...this.tails.values()]) {
      for (const s of [...tail.subs]) s.end('shutdown');
      this.drop(tail);
    }
  }
}

/** How long the first read waits for its new connection before it goes ahead (and fails, if Redis is away). */
const FIRST_READ_WAIT_MS = 2_000;

/** Resolves when `client` is ready, or after `ms` (whichever comes first). */
function readyOrAfter(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}
