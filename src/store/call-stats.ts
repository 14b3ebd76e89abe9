import type { NotifyEventType } from '../domain/notify-event-types.js';
import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** A minute bucket outlives the hour the dashboard shows by an hour (clock skew between nodes). */
export const STATS_MINUTE_TTL_S = 2 * 3600;
/** An hour bucket outlives the 7 days the dashboard shows by a day. */
export const STATS_HOUR_TTL_S = 8 * 24 * 3600;
export const MINUTES_SHOWN = 60;
export const HOURS_SHOWN = 7 * 24;

/** Calls of one minute on this node: counts, and blocks per winning rule (0: no rule). */
export interface MinuteCell {
  screened: number;
  blocked: number;
  readonly blocksByRule: Map<number, number>;
}

interface PipelineLike {
  hincrby(key: string, field: string, increment: number): unknown;
  expire(key: string, seconds: number): unknown;
}

/**
 * Per-tenant, per-minute call counts kept in memory on a call node between two writes of the
 * decision recorder. count() runs on the call path: a map lookup (the current minute's cell is
 * remembered) and a few increments; the writes happen in the recorder's batch (queueWrites).
 */
export class CallTally {
  private tenants = new Map<string, Map<number, MinuteCell>>();
  private lastTenant = '';
  private lastMinute = -1;
  private lastCell: MinuteCell | undefined;

  // hot path
  count(tenant: string, at: number, blocked: boolean, ruleId: number): void {
    const minute = Math.floor(at / MINUTE_MS);
    let cell = this.lastCell;
    if (cell === undefined || tenant !== this.lastTenant || minute !== this.lastMinute) {
      cell = this.cell(tenant, minute);
      this.lastTenant = tenant;
      this.lastMinute = minute;
      this.lastCell = cell;
    }
    cell.screened++;
    if (blocked) {
      cell.blocked++;
      cell.blocksByRule.set(ruleId, (cell.blocksByRule.get(ruleId) ?? 0) + 1);
    }
  }

  private cell(tenant: string, minute: number): MinuteCell {
    let minutes = this.tenants.get(tenant);
    if (minutes === undefined) {
      minutes = new Map();
      this.tenants.set(tenant, minutes);
    }
    let cell = minutes.get(minute);
    if (cell === undefined) {
      cell = { screened: 0, blocked: 0, blocksByRule: new Map() };
      minutes.set(minute, cell);
    }
    return cell;
  }

  get size(): number {
    return this.tenants.size;
  }

  tenantIds(): IterableIterator<string> {
    return this.tenants.keys();
  }

  /** Takes everything counted so far out (the next count starts afresh). */
  drain(): Map<string, Map<number, MinuteCell>> {
    const out = this.tenants;
    this.tenants = new Map();
    this.lastCell = undefined;
    this.lastMinute = -1;
    return out;
  }

  /** Puts back the counts of a tenant whose write failed; they add to what was counted meanwhile. */
  restore(tenant: string, minutes: ReadonlyMap<number, MinuteCell>): void {
    for (const [minute, c] of minutes) {
      const cell = this.cell(tenant, minute);
      cell.screened += c.screened;
      cell.blocked += c.blocked;
      for (const [rule, n] of c.blocksByRule)
        cell.blocksByRule.set(rule, (cell.blocksByRule.get(rule) ?? 0) + n);
    }
  }
}

/** Queues one tenant's drained counts as HINCRBYs on its minute and hour hashes (one slot: its hash tag). */
export function queueStatsWrites(
  pipeline: PipelineLike,
  tenant: string,
  minutes: ReadonlyMap<number, MinuteCell>,
): void {
  const k = notifyKeys(tenant);
  const hours = new Map<number, MinuteCell>();
  for (const [minute, c] of minutes) {
    const key = k.statsMinute(minute);
    pipeline.hincrby(key, 's', c.screened);
    if (c.blocked > 0) pipeline.hincrby(key, 'b', c.blocked);
    pipeline.expire(key, STATS_MINUTE_TTL_S);
    const hour = Math.floor(minute / 60);
    let h = hours.get(hour);
    if (h === undefined) {
      h = { screened: 0, blocked: 0, blocksByRule: new Map() };
      hours.set(hour, h);
    }
    h.screened += c.screened;
    h.blocked += c.blocked;
    for (const [rule, n] of c.blocksByRule) h.blocksByRule.set(rule, (h.blocksByRule.get(rule) ?? 0) + n);
  }
  for (const [hour, c] of hours) {
    const key = k.statsHour(hour);
    pipeline.hincrby(key, 's', c.screened);
    if (c.blocked > 0) pipeline.hincrby(key, 'b', c.blocked);
    for (const [rule, n] of c.blocksByRule) pipeline.hincrby(key, `r:${rule}`, n);
    pipeline.expire(key, STATS_HOUR_TTL_S);
  }
}

export interface StatsBucket {
  /** Start of the bucket, ISO time. */
  readonly at: string;
  readonly screened: number;
  readonly blocked: number;
}

export interface DeliveryCounts {
  readonly delivered: number;
  readonly deadLettered: number;
}

export interface CallStatsWindow {
  /** The last 60 minutes, oldest first, the current (partial) minute last. */
  readonly minutes: StatsBucket[];
  /** The last 168 hours, oldest first, the current (partial) hour last. */
  readonly hours: StatsBucket[];
  /** Blocks of the last 7 days per winning rule id (0: blocks no rule decided: default, failure policy). */
  readonly blocksByRule: Map<number, number>;
}

const num = (v: string | null | undefined): number => (v ? Number(v) || 0 : 0);

/**
 * Reads the counters: one pipeline of 60 minute hashes and 168 hour hashes. Figures trail the calls
 * by the recorder's flush period (about a second) and cover every call, sampled allows included.
 */
export class CallStats {
  constructor(private readonly client: RedisClient) {}

  async window(tenant: string, now: number = Date.now()): Promise<CallStatsWindow> {
    const k = notifyKeys(tenant);
    const lastMinute = Math.floor(now / MINUTE_MS);
    const lastHour = Math.floor(now / HOUR_MS);
    const pipeline = this.client.pipeline();
    for (let m = lastMinute - MINUTES_SHOWN + 1; m <= lastMinute; m++)
      pipeline.hmget(k.statsMinute(m), 's', 'b');
    for (let h = lastHour - HOURS_SHOWN + 1; h <= lastHour; h++) pipeline.hgetall(k.statsHour(h));
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const minutes: StatsBucket[] = [];
    for (let i = 0; i < MINUTES_SHOWN; i++) {
      const [s, b] = (replies[i]?.[1] ?? []) as Array<string | null>;
      minutes.push({
        at: new Date((lastMinute - MINUTES_SHOWN + 1 + i) * MINUTE_MS).toISOString(),
        screened: num(s),
        blocked: num(b),
      });
    }
    const hours: StatsBucket[] = [];
    const blocksByRule = new Map<number, number>();
    for (let i = 0; i < HOURS_SHOWN; i++) {
      const fields = (replies[MINUTES_SHOWN + i]?.[1] ?? {}) as Record<string, string>;
      hours.push({
        at: new Date((lastHour - HOURS_SHOWN + 1 + i) * HOUR_MS).toISOString(),
        screened: num(fields.s),
        blocked: num(fields.b),
      });
      for (const [field, value] of Object.entries(fields)) {
        if (!field.startsWith('r:')) continue;
        const rule = Number(field.slice(2));
        blocksByRule.set(rule, (blocksByRule.get(rule) ?? 0) + num(value));
      }
    }
    return { minutes, hours, blocksByRule };
  }

  /** Webhooks of the last 7 days per event type (only the delivery fields of the hour hashes are read). */
  async deliveries(
    tenant: string,
    types: readonly string[],
    now: number = Date.now(),
  ): Promise<Map<string, DeliveryCounts>> {
    const k = notifyKeys(tenant);
    const lastHour = Math.floor(now / HOUR_MS);
    const fields = types.flatMap((t) => [`d:${t}`, `x:${t}`]);
    const pipeline = this.client.pipeline();
    for (let h = lastHour - HOURS_SHOWN + 1; h <= lastHour; h++) pipeline.hmget(k.statsHour(h), ...fields);
    const replies = (await pipeline.exec()) ?? [];
    const out = new Map(types.map((t) => [t, { delivered: 0, deadLettered: 0 }]));
    for (const [error, values] of replies) {
      if (error) throw error;
      types.forEach((t, i) => {
        const d = out.get(t)!;
        d.delivered += num((values as Array<string | null>)[2 * i]);
        d.deadLettered += num((values as Array<string | null>)[2 * i + 1]);
      });
    }
    return out;
  }

  /** Counts one webhook that reached its receiver (delivered) or used up its attempts (dead). */
  async countDelivery(
    tenant: string,
    type: NotifyEventType,
    result: 'delivered' | 'dead',
    at: number = Date.now(),
  ): Promise<void> {
    const key = notifyKeys(tenant).statsHour(Math.floor(at / HOUR_MS));
    await this.client
      .multi()
      .hincrby(key, `${result === 'delivered' ? 'd' : 'x'}:${type}`, 1)
      .expire(key, STATS_HOUR_TTL_S)
      .exec();
  }
}
