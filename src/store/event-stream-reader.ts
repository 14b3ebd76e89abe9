import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** One entry of a tenant's event stream, as written by appendEvents (event-stream-writer.ts). */
export interface StreamEntry {
  /** The stream entry id (`<ms>-<seq>`): the order of the stream. */
  readonly position: string;
  /** The event id (the idempotency key receivers see). */
  readonly id: string;
  readonly type: string;
  /** The JSON envelope, byte for byte the webhook body. */
  readonly body: string;
}

type Row = [string, string[]];

function entryOf([position, fields]: Row): StreamEntry | undefined {
  let id: string | undefined;
  let type: string | undefined;
  let body: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1]!;
    if (fields[i] === 'id') id = v;
    else if (fields[i] === 'type') type = v;
    else if (fields[i] === 'body') body = v;
  }
  return id !== undefined && type !== undefined && body !== undefined
    ? { position, id, type, body }
    : undefined;
}

const entries = (rows: Row[] | null | undefined): StreamEntry[] =>
  (rows ?? []).map(entryOf).filter((e): e is StreamEntry => e !== undefined);

/** Orders two stream entry ids (`ms-seq`): negative when a comes first. */
export function comparePositions(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/**
 * Reads a tenant's event stream (`cg:{tenant}:events`) for live consumers such as the agents' SSE
 * channel. Commands go over `client`; the blocking read (XREAD BLOCK) needs a connection of its own,
 * passed per call, since it holds the connection while it waits.
 */
export class EventStreamReader {
  constructor(private readonly client: RedisClient) {}

  /** The newest entry's position, '0-0' when the stream is empty. */
  async end(tenant: string): Promise<string> {
    const rows = (await this.client.xrevrange(notifyKeys(tenant).events, '+', '-', 'COUNT', 1)) as Row[];
    return rows[0]?.[0] ?? '0-0';
  }

  /** The newest `count` entries, oldest first. */
  async recent(tenant: string, count: number): Promise<StreamEntry[]> {
    const rows = (await this.client.xrevrange(notifyKeys(tenant).events, '+', '-', 'COUNT', count)) as Row[];
    return entries(rows.reverse());
  }

  /** Up to `count` entries after `position` (exclusive), oldest first. */
  async after(tenant: string, position: string, count: number): Promise<StreamEntry[]> {
    const rows = (await this.client.xrange(
      notifyKeys(tenant).events,
      `(${position}`,
      '+',
      'COUNT',
      count,
    )) as Row[];
    return entries(rows);
  }

  /**
   * The position of the entry carrying event id `eventId`, searched from the newest entry backwards
   * (a reconnecting client asks for a recent one), at most `maxScan` entries; undefined when it is not
   * there (never written, or trimmed away by MAXLEN).
   */
  async positionOf(
    tenant: string,
    eventId: string,
    maxScan: number,
    page = 500,
  ): Promise<string | undefined> {
    const key = notifyKeys(tenant).events;
    let end = '+';
    for (let scanned = 0; scanned < maxScan; ) {
      const rows = (await this.client.xrevrange(key, end, '-', 'COUNT', page)) as Row[];
      for (const row of rows) {
        const fields = row[1];
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'id' && fields[i + 1] === eventId) return row[0];
        }
      }
      scanned += rows.length;
      if (rows.length < page) return undefined;
      end = `(${rows.at(-1)![0]}`;
    }
    return undefined;
  }

  /**
   * Waits up to `blockMs` for entries after `position` on `blocking` (a connection used for nothing
   * else); [] when none came.
   */
  async waitAfter(
    blocking: RedisClient,
    tenant: string,
    position: string,
    blockMs: number,
    count: number,
  ): Promise<StreamEntry[]> {
    const res = (await blocking.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      notifyKeys(tenant).events,
      position,
    )) as Array<[string, Row[]]> | null;
    return entries(res?.[0]?.[1]);
  }

  /**
   * Follows the streams of some tenants until the signal aborts, on `blocking` (XREAD BLOCK holds
   * it). One XREAD per tenant per round so that it also works on Redis Cluster, where tenants live
   * in different slots.
   */
  async tail(blocking: RedisClient, options: TailOptions): Promise<void> {
    const positions = new Map<string, string>();
    for (const t of options.tenants) positions.set(t, options.from?.get(t) ?? (await this.end(t)));
    options.onReady?.();
    const block = options.blockMs ?? 1000;
    const perTenantBlock =
      options.tenants.length > 1 ? Math.max(50, Math.floor(block / options.tenants.length)) : block;
    while (!options.signal.aborted) {
      for (const [tenant, position] of positions) {
        if (options.signal.aborted) break;
        const rows = await this.waitAfter(blocking, tenant, position, perTenantBlock, 500);
        for (const entry of rows) {
          positions.set(tenant, entry.position);
          options.onEntry(tenant, entry);
        }
      }
    }
  }
}

export interface TailOptions {
  readonly tenants: readonly string[];
  readonly signal: AbortSignal;
  readonly onEntry: (tenant: string, entry: StreamEntry) => void;
  /** Called once the start positions are fixed: nothing written after this is missed. */
  readonly onReady?: () => void;
  /** Start positions; default: each stream's current end. */
  readonly from?: ReadonlyMap<string, string>;
  readonly blockMs?: number;
}
