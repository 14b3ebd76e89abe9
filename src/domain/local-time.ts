/**
 * Wall-clock time in an IANA time zone, from the platform's time-zone database (Intl). Pure: the
 * instant is given, never read from a clock.
 */

/** A moment as a zone's clocks show it. */
export interface LocalTime {
  /** Day of the week, 0 = Sunday. */
  readonly weekday: number;
  /** Minutes since local midnight, 0..1439. */
  readonly minutes: number;
  /** The local calendar date, YYYY-MM-DD. */
  readonly date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether the platform knows this IANA zone name (aliases such as US/Central included). */
export function isKnownZone(zone: string): boolean {
  try {
    formatterOf(zone);
    return true;
  } catch {
    return false;
  }
}

const QUARTER_HOUR = 15 * 60_000;

/**
 * Offsets change only at transitions, and transitions in the zone database since 1970 fall on whole
 * quarter hours of UTC: one offset per zone and quarter hour is exact, and spares Intl on most calls.
 */
const offsetCache = new Map<string, { quarter: number; offset: number }>();

/** The zone's offset from UTC at `at`, in ms (local = UTC + offset). */
export function zoneOffset(zone: string, at: number): number {
  const quarter = Math.floor(at / QUARTER_HOUR);
  const cached = offsetCache.get(zone);
  if (cached && cached.quarter === quarter) return cached.offset;
  const parts = formatterOf(zone).formatToParts(new Date(quarter * QUARTER_HOUR));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  const offset = asUtc - quarter * QUARTER_HOUR;
  offsetCache.set(zone, { quarter, offset });
  return offset;
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** The last answer per zone: a screened list asks about one instant in a few zones, many times. */
const lastLocal = new Map<string, { at: number; local: LocalTime }>();

/** The local weekday, time of day and date of `at` in `zone` (throws RangeError for an unknown zone). */
export function localTime(zone: string, at: number): LocalTime {
  const last = lastLocal.get(zone);
  if (last !== undefined && last.at === at) return last.local;
  const local = computeLocal(zone, at);
  lastLocal.set(zone, { at, local });
  return local;
}

function computeLocal(zone: string, at: number): LocalTime {
  const local = new Date(at + zoneOffset(zone, at));
  return {
    weekday: local.getUTCDay(),
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
    date: `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`,
  };
}
