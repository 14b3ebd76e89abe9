import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface RuleHits {
  readonly ruleId: number;
  readonly count: number;
  /** ISO time of the last hit seen by any node; null when never hit. */
  readonly lastHitAt: string | null;
}

/** One rule's hits aggregated on a node between writes. */
export interface HitCell {
  count: number;
  /** Epoch ms of the latest hit. */
  last: number;
}

interface PipelineLike {
  zincrby(key: string, increment: number, member: string): unknown;
  zadd(key: string, ...args: Array<string | number>): unknown;
}

/** Adds one node's aggregated hits to the tenant's counters (ZINCRBY; ZADD GT keeps the latest hit time). */
export function queueHitWrites(
  pipeline: PipelineLike,
  tenant: string,
  cells: ReadonlyMap<number, HitCell>,
): void {
  const k = notifyKeys(tenant);
  const times: Array<string | number> = [];
  for (const [id, c] of cells) {
    pipeline.zincrby(k.hits, c.count, String(id));
    times.push(c.last, String(id));
  }
  if (times.length > 0) pipeline.zadd(k.hitAt, 'GT', ...times);
}

const toHits = (id: number, count: string | null | undefined, at: string | null | undefined): RuleHits => ({
  ruleId: id,
  count: count ? Number(count) : 0,
  lastHitAt: at ? new Date(Number(at)).toISOString() : null,
});

/**
 * Per-rule hit counters as the API shows them. Counts are cumulative over every call node; a node
 * flushes its in-memory counts about once a second, so a figure may trail the calls by that much.
 */
export class HitCounters {
  constructor(private readonly client: RedisClient) {}

  /** Hits of these rules, in the order given; rules never hit have count 0 and lastHitAt null. */
  async readHits(tenant: string, ids: readonly number[]): Promise<RuleHits[]> {
    if (ids.length === 0) return [];
    const k = notifyKeys(tenant);
    const members = ids.map(String);
    const [counts, times] = (await Promise.all([
      this.client.zmscore(k.hits, ...members),
      this.client.zmscore(k.hitAt, ...members),
    ])) as [Array<string | null>, Array<string | null>];
    return ids.map((id, i) => toHits(id, counts[i], times[i]));
  }

  /**
   * Rules ranked by hit count (desc: the busiest first; asc: the least hit that were ever hit). Rules
   * that never fired have no entry: list the rules and keep those whose readHits count is 0.
   * May include ids of deleted rules until forget() is called for them.
   */
  async ranked(
    tenant: string,
    options: { order?: 'asc' | 'desc'; offset?: number; limit?: number } = {},
  ): Promise<RuleHits[]> {
    const k = notifyKeys(tenant);
    const offset = Math.max(0, options.offset ?? 0);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const stop = String(offset + limit - 1);
    const reply = ((options.order ?? 'desc') === 'desc'
      ? await this.client.zrange(k.hits, offset, stop, 'REV', 'WITHSCORES')
      : await this.client.zrange(k.hits, offset, stop, 'WITHSCORES')) as unknown as Array<
      string | [string, string | number]
    >;
    const ids: number[] = [];
    const counts: string[] = [];
    // RESP2 answers member, score, member, score...; RESP3 answers [member, score] pairs.
    for (let i = 0; i < reply.length; i++) {
      const item = reply[i]!;
      if (Array.isArray(item)) {
        ids.push(Number(item[0]));
        counts.push(String(item[1]));
      } else {
        ids.push(Number(item));
        counts.push(String(reply[++i]));
      }
    }
    if (ids.length === 0) return [];
    const times = (await this.client.zmscore(k.hitAt, ...ids.map(String))) as Array<string | null>;
    return ids.map((id, i) => toHits(id, counts[i], times[i]));
  }

  /** Drops the counters of deleted rules. */
  async forget(tenant: string, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const k = notifyKeys(tenant);
    await this.client
      .multi()
      .zrem(k.hits, ...ids.map(String))
      .zrem(k.hitAt, ...ids.map(String))
      .exec();
  }

  /** Number of rules hit at least once. */
  async hitRules(tenant: string): Promise<number> {
    return this.client.zcard(notifyKeys(tenant).hits);
  }
}
