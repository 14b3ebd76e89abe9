import type { CapPeriod } from './contact-policy.js';

/**
 * How attempts are counted: per counting key (the scope, tenant or task, and the number) a small
 * map of buckets → attempts. A rolling window is the sum of the buckets that touch it, so an
 * attempt counts up to one bucket longer than the window, never shorter (a cap is never undercounted
 * by the bucketing): 24 h in hour buckets (25 summed), 7 days in six-hour buckets (29 summed). A
 * calendar day is one bucket named by the local date.
 */
export const HOUR_MS = 3_600_000;
export const SIX_HOURS_MS = 6 * HOUR_MS;

/** Buckets summed for each rolling period. */
const ROLLING = {
  '24h': { size: HOUR_MS, count: 25, tag: 'h' },
  '7d': { size: SIX_HOURS_MS, count: 29, tag: 'q' },
};

/** The bucket fields an attempt at `at` adds one to (the day field only when a day cap asks). */
export function bucketFields(at: number, localDate: string | undefined): string[] {
  const fields = [`h${Math.floor(at / HOUR_MS)}`, `q${Math.floor(at / SIX_HOURS_MS)}`];
  if (localDate !== undefined) fields.push(`d${localDate}`);
  return fields;
}

/** Counts of one counting key, bucket field → attempts. */
export type AttemptTally = ReadonlyMap<string, number>;

/** Attempts within the cap's period before `at` (the day: `localDate`). */
export function attemptsIn(tally: AttemptTally, period: CapPeriod, at: number, localDate: string): number {
  if (period === 'day') return tally.get(`d${localDate}`) ?? 0;
  let sum = 0;
  for (const field of rollingFields(period, at)) sum += tally.get(field) ?? 0;
  return sum;
}

const rollingCache = {
  '24h': { last: Number.NaN, fields: [] as string[] },
  '7d': { last: Number.NaN, fields: [] as string[] },
};

/** The bucket fields a rolling period sums at `at` (built once per bucket, not per number). */
function rollingFields(period: '24h' | '7d', at: number): readonly string[] {
  const { size, count, tag } = ROLLING[period];
  const last = Math.floor(at / size);
  const cached = rollingCache[period];
  if (cached.last !== last) {
    cached.fields = Array.from({ length: count }, (_, i) => `${tag}${last - count + 1 + i}`);
    cached.last = last;
  }
  return cached.fields;
}

/**
 * Whether a bucket field can still count toward any cap at `at` (older ones may be deleted). Day
 * fields live two days: a local date is at most 26 hours away from UTC.
 */
export function bucketLive(field: string, at: number): boolean {
  const tag = field[0];
  if (tag === 'h') return Number(field.slice(1)) > Math.floor(at / HOUR_MS) - ROLLING['24h'].count;
  if (tag === 'q') return Number(field.slice(1)) > Math.floor(at / SIX_HOURS_MS) - ROLLING['7d'].count;
  if (tag === 'd') return Date.parse(`${field.slice(1)}T00:00:00Z`) > at - 3 * 24 * HOUR_MS;
  return false;
}

/** How long a counting key must outlive its last attempt: the longest rolling window and a bucket. */
export const ATTEMPT_TTL_MS = 7 * 24 * HOUR_MS + SIX_HOURS_MS + HOUR_MS;
