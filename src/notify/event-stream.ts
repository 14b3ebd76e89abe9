import type { RedisClient } from '../store/redis-client.js';
import type { NotifyEvent } from './notify-event.js';
import { notifyKeys } from './notify-keys.js';

/** One entry of a tenant's event stream. */
export interface StreamedEvent {
  /** The stream entry id (ms-seq). */
  readonly position: string;
  readonly event: NotifyEvent;
}

/**
 * Every published event is also appended to the tenant's event stream (`cg:{tenant}:events`, capped
 * with MAXLEN ~), so a campaign engine can consume events with XREAD / XREADGROUP without running a
 * web server. Fields: `id` (the event id), `type`, `body` (the JSON envelope, the webhook body).
 */
export function queueEventAppend(
  pipeline: { xadd(...args: Array<string | number>): unknown },
  event: NotifyEvent,
  body: string,
  maxLen: number,
): void {
  pipeline.xadd(
    notifyKeys(event.tenant).events,
    'MAXLEN',
    '~',
    maxLen,
    '*',
    'id',
    event.id,
    'type',
    event.type,
    'body',
    body,
  );
}

export function decodeStreamed([position, fields]: [string, string[]]): StreamedEvent | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'body') {
      try {
        return { position, event: JSON.parse(fields[i + 1]!) as NotifyEvent };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The last entry id of a tenant's event stream ('0-0' when empty): where a live tail starts. */
export async function lastPosition(client: RedisClient, tenant: string): Promise<string> {
  const last = (await client.xrevrange(notifyKeys(tenant).events, '+', '-', 'COUNT', 1)) as Array<
    [string, string[]]
  >;
  return last[0]?.[0] ?? '0-0';
}

/** The newest `count` events of a tenant, oldest first. */
export async function recentEvents(
  client: RedisClient,
  tenant: string,
  count: number,
): Promise<StreamedEvent[]> {
  const rows = (await client.xrevrange(notifyKeys(tenant).events, '+', '-', 'COUNT', count)) as Array<
    [string, string[]]
  >;
  return rows
    .reverse()
    .map(decodeStreamed)
    .filter((e): e is StreamedEvent => e !== undefined);
}

export interface TailOptions {
  readonly tenants: readonly string[];
  readonly signal: AbortSignal;
  readonly onEvent: (e: StreamedEvent) => void;
  /** Called once the start positions are fixed: nothing published after this is missed. */
  readonly onReady?: () => void;
  /** Start positions; default: each stream's current end. */
  readonly from?: ReadonlyMap<string, string>;
  readonly blockMs?: number;
}

/**
 * Follows the event streams of some tenants until the signal aborts. Needs a connection of its own
 * (XREAD BLOCK holds it). One XREAD per tenant per round so that it also works on Redis Cluster,
 * where tenants live in different slots.
 */
export async function tailEvents(client: RedisClient, options: TailOptions): Promise<void> {
  const positions = new Map<string, string>();
  for (const t of options.tenants) positions.set(t, options.from?.get(t) ?? (await lastPosition(client, t)));
  options.onReady?.();
  const block = options.blockMs ?? 1000;
  const perTenantBlock =
    options.tenants.length > 1 ? Math.max(50, Math.floor(block / options.tenants.length)) : block;
  while (!options.signal.aborted) {
    for (const [tenant, position] of positions) {
      if (options.signal.aborted) break;
      const res = (await client.xread(
        'COUNT',
        500,
        'BLOCK',
        perTenantBlock,
        'STREAMS',
        notifyKeys(tenant).events,
        position,
      )) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [, rows] of res ?? []) {
        for (const row of rows) {
          positions.set(tenant, row[0]);
          const e = decodeStreamed(row);
          if (e) options.onEvent(e);
        }
      }
    }
  }
}
