import { notifyKeys } from './keys.js';
import { throwPipelineErrors } from './pipeline-errors.js';
import type { RedisClient } from './redis-client.js';

/** An event as its tenant's stream keeps it: fields `id`, `type`, `body` (the JSON envelope). */
export interface EventEntry {
  readonly id: string;
  readonly type: string;
  readonly body: string;
}

/**
 * Appends events to a tenant's event stream (`cg:{tenant}:events`, capped with MAXLEN ~ `maxLen`) in
 * one round trip, so a campaign engine can consume them with XREAD / XREADGROUP without running a
 * web server, and the agents' push channel can read them. Rejects when any append failed (the caller
 * writes them again; the event id tells a reader a repeat).
 */
export async function appendEvents(
  client: RedisClient,
  tenant: string,
  events: readonly EventEntry[],
  maxLen: number,
): Promise<void> {
  if (events.length === 0) return;
  const key = notifyKeys(tenant).events;
  const pipeline = client.pipeline();
  for (const e of events) {
    pipeline.xadd(key, 'MAXLEN', '~', maxLen, '*', 'id', e.id, 'type', e.type, 'body', e.body);
  }
  throwPipelineErrors(await pipeline.exec());
}
