import { randomBytes } from 'node:crypto';
import type { AttemptCounter } from '../call/attempt-counter.js';
import { ATTEMPT_TTL_MS, bucketLive } from '../domain/attempt-buckets.js';
import type { Logger } from '../log.js';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';

export interface RedisAttemptCounterOptions {
  readonly client: RedisClient;
  readonly log: Logger;
  /** This node's name in the attempts stream (its own batches are not applied twice). */
  readonly node?: string;
  /** How often local attempts are sent and the other nodes' read back, ms (default 5). */
  readonly mergeMs?: number;
  /** Batches the attempts stream keeps (approximate); a node further behind reloads. */
  readonly streamMaxLen?: number;
  readonly now?: () => number;
}

type Tally = Map<string, number>;
const ITEM = '\u001d';
const PART = '\u001e';
const READ_BATCH = 1000;
const PRUNE_EVERY_MS = 60_000;

/** One tenant's counts on this node: every live counting key of the tenant (the whole view). */
class TenantCounts {
  readonly tallies = new Map<string, Tally>();
  /** Attempts counted here and not sent yet: key → field → count. */
  pending = new Map<string, Tally>();
  /** Dead bucket fields to delete in Redis with the next batch. */
  dead: Array<[string, string]> = [];
  /** The last attempts-stream entry applied; undefined until the first load is done. */
  position: string | undefined;
  loading = false;
  /** A read or write failed: the view may have missed batches; reload once Redis answers. */
  stale = false;
}

const addTo = (tallies: Map<string, Tally>, key: string, field: string, n: number) => {
  let t = tallies.get(key);
  if (!t) {
    t = new Map();
    tallies.set(key, t);
  }
  t.set(field, (t.get(field) ?? 0) + n);
};

/**
 * Attempt counts shared by every node without the call path ever waiting on Redis. Each node holds
 * the whole view of a tenant's counters in memory: its own attempts count at once; every mergeMs
 * the new ones go to Redis in one script per tenant (HINCRBY into per-number hashes that expire with
 * their longest window, and one entry on the tenant's attempts stream), and the other nodes'
 * entries are read back from that stream and added. A node sees another node's attempt at most one
 * merge interval plus a round trip after it was made: a cap is exceeded by at most the attempts
 * that reach other nodes within that time. A node starting (or back from an outage) loads the
 * counters with SCAN and tails the stream from the position it noted first.
 */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly tenants = new Map<string, TenantCounts>();
  private readonly node: string;
  private readonly mergeMs: number;
  private readonly maxLen: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastPrune = 0;
  private failing = false;

  constructor(private readonly o: RedisAttemptCounterOptions) {
    this.node = o.node ?? randomBytes(6).toString('hex');
    this.mergeMs = o.mergeMs ?? 5;
    this.maxLen = o.streamMaxLen ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  start(): this {
    this.timer ??= setInterval(() => {
      if (!this.ticking) this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, this.mergeMs);
    this.timer.unref();
    return this;
  }

  /** Stops the timer after sending what is pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.tick();
  }

  follow(tenant: string): void {
    this.countsOf(tenant);
  }

  // hot path
  tallyOf(tenant: string, key: string): Tally | undefined {
    return this.countsOf(tenant).tallies.get(key);
  }

  add(tenant: string, increments: ReadonlyMap<string, readonly string[]>): void {
    const c = this.countsOf(tenant);
    for (const [key, fields] of increments) {
      for (const f of fields) {
        addTo(c.tallies, key, f, 1);
        addTo(c.pending, key, f, 1);
      }
    }
  }

  /** Whether the node has loaded the tenant's counters (tests and the bench wait for it). */
  ready(tenant: string): boolean {
    const c = this.tenants.get(tenant);
    return c !== undefined && c.position !== undefined && !c.loading;
  }

  private countsOf(tenant: string): TenantCounts {
    let c = this.tenants.get(tenant);
    if (!c) {
      c = new TenantCounts();
      this.tenants.set(tenant, c);
    }
    return c;
  }

  /** One merge: send every tenant's pending attempts, then read the other nodes' back. */
  private async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      for (const c of this.tenants.values()) this.prune(c, now);
    }
    const work: Array<Promise<void>> = [];
    for (const [tenant, c] of this.tenants) {
      if (c.position === undefined || c.stale) {
        if (!c.loading) work.push(this.load(tenant, c));
        continue;
      }
      if (c.pending.size > 0 || c.dead.length > 0) work.push(this.send(tenant, c));
      work.push(this.readBack(tenant, c));
    }
    await Promise.all(work);
  }

  private async send(tenant: string, c: TenantCounts): Promise<void> {
    const pending = c.pending;
    const dead = c.dead;
    c.pending = new Map();
    c.dead = [];
    const triples: string[] = [];
    const packed: string[] = [];
    for (const [key, fields] of pending) {
      for (const [field, n] of fields) {
        triples.push(key, field, String(n));
        packed.push(`${key}${PART}${field}${PART}${n}`);
      }
    }
    for (const [key, field] of dead) triples.push(key, field, '-');
    const k = tenantKeys(tenant);
    try {
      await runScript(
        this.o.client,
        'count-attempts-1',
        [k.attemptLog],
        [k.attemptsPrefix, ATTEMPT_TTL_MS, this.maxLen, this.node, packed.join(ITEM), ...triples],
      );
      this.recovered();
    } catch (error) {
      // Nothing of the batch landed (one script): it goes out again with the next one.
      for (const [key, fields] of pending) for (const [f, n] of fields) addTo(c.pending, key, f, n);
      this.failed(error, tenant);
    }
  }

  /** Applies the other nodes' batches written since this node's position. */
  private async readBack(tenant: string, c: TenantCounts): Promise<void> {
    try {
      for (let round = 0; round < 10; round++) {
        const rows = (await this.o.client.xrange(
          tenantKeys(tenant).attemptLog,
          `(${c.position}`,
          '+',
          'COUNT',
          READ_BATCH,
        )) as Array<[string, string[]]>;
        if (c.position === undefined || c.stale) return;
        for (const [id, fields] of rows) {
          c.position = id;
          let node = '';
          let batch = '';
          for (let i = 0; i + 1 < fields.length; i += 2) {
            if (fields[i] === 'n') node = fields[i + 1]!;
            else if (fields[i] === 'b') batch = fields[i + 1]!;
          }
          if (node === this.node || batch === '') continue;
          for (const item of batch.split(ITEM)) {
            const [key, field, n] = item.split(PART);
            const count = Number(n);
            if (key && field && Number.isSafeInteger(count) && count > 0) addTo(c.tallies, key, field, count);
          }
        }
        if (rows.length < READ_BATCH) break;
      }
      this.recovered();
    } catch (error) {
      c.stale = true;
      this.failed(error, tenant);
    }
  }

  /**
   * Loads every counter of the tenant (SCAN + HGETALL), having noted the stream's end first: batches
   * written meanwhile may be counted twice (a cap errs on the safe side), never missed.
   */
  private async load(tenant: string, c: TenantCounts): Promise<void> {
    c.loading = true;
    const k = tenantKeys(tenant);
    try {
      const last = (await this.o.client.xrevrange(k.attemptLog, '+', '-', 'COUNT', 1)) as Array<
        [string, string[]]
      >;
      const position = last[0]?.[0] ?? '0-0';
      const loaded = new Map<string, Tally>();
      let cursor = '0';
      do {
        const [next, keys] = await this.o.client.scan(cursor, 'MATCH', `${k.attemptsPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = this.o.client.pipeline();
        for (const key of keys) pipeline.hgetall(key);
        const replies = (await pipeline.exec()) ?? [];
        keys.forEach((key, i) => {
          const [err, hash] = replies[i] ?? [];
          if (err || !hash) return;
          const tally: Tally = new Map();
          for (const [f, v] of Object.entries(hash as Record<string, string>)) tally.set(f, Number(v));
          loaded.set(key.slice(k.attemptsPrefix.length), tally);
        });
      } while (cursor !== '0');
      // Attempts counted here meanwhile and not sent yet are not in Redis: keep them on top.
      for (const [key, fields] of c.pending) for (const [f, n] of fields) addTo(loaded, key, f, n);
      c.tallies.clear();
      for (const [key, tally] of loaded) c.tallies.set(key, tally);
      c.position = position;
      c.stale = false;
      this.recovered();
    } catch (error) {
      this.failed(error, tenant);
    } finally {
      c.loading = false;
    }
  }

  /** Drops buckets no window reaches any more (and asks Redis to drop them from live keys). */
  private prune(c: TenantCounts, now: number): void {
    for (const [key, tally] of c.tallies) {
      let live = 0;
      for (const field of tally.keys()) {
        if (bucketLive(field, now)) live++;
        else {
          tally.delete(field);
          c.dead.push([key, field]);
        }
      }
      // A key with nothing live left expires in Redis by itself.
      if (live === 0) {
        c.tallies.delete(key);
        c.dead = c.dead.filter(([k]) => k !== key);
      }
    }
  }

  private failed(error: unknown, tenant: string): void {
    if (this.failing) return;
    this.failing = true;
    this.o.log.warn(
      { tenant, err: (error as Error).message },
      'attempt counters cannot reach Redis; counting locally and retrying',
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.o.log.info('attempt counters reach Redis again');
  }
}
