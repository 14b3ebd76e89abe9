import { EventStreamReader, type StreamEntry } from '../store/event-stream-reader.js';
import type { RedisClient } from '../store/redis-client.js';
import type { NotifyEvent } from './notify-event.js';

/** One entry of a tenant's event stream. */
export interface StreamedEvent {
  /** The stream entry id (ms-seq). */
  readonly position: string;
  readonly event: NotifyEvent;
}

/** The event of a stream entry (its JSON body); undefined when the body is not JSON. */
export function decodeStreamed(entry: StreamEntry): StreamedEvent | undefined {
  try {
    return { position: entry.position, event: JSON.parse(entry.body) as NotifyEvent };
  } catch {
    return undefined;
  }
}

const decoded = (entries: readonly StreamEntry[]): StreamedEvent[] =>
  entries.map(decodeStreamed).filter((e): e is StreamedEvent => e !== undefined);

/** The newest `count` events of a tenant, oldest first. */
export async function recentEvents(
  client: RedisClient,
  tenant: string,
  count: number,
): Promise<StreamedEvent[]> {
  return decoded(await new EventStreamReader(client).recent(tenant, count));
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
 * (XREAD BLOCK holds it).
 */
export async function tailEvents(client: RedisClient, options: TailOptions): Promise<void> {
  const { onEvent, ...rest } = options;
  await new EventStreamReader(client).tail(client, {
    ...rest,
    onEntry: (_tenant, entry) => {
      const e = decodeStreamed(entry);
      if (e) onEvent(e);
    },
  });
}
