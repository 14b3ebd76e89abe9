import type { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { JOB_QUEUE_PREFIX } from '../store/keys.js';
import { quietErrors } from '../store/redis-client.js';

/** The two bulk queues: imports and exports run apart so a long export never waits behind imports. */
export const QUEUE_NAMES = { import: 'import', export: 'export' } as const;
export type JobKind = keyof typeof QUEUE_NAMES;

/** BullMQ's key prefix: a hash tag, so that every key of a queue is in one Redis Cluster slot. */
export const QUEUE_PREFIX = JOB_QUEUE_PREFIX;

/**
 * BullMQ connection settings from a redis:// URL. BullMQ brings its own ioredis; it gets options, not
 * our client. Workers need maxRetriesPerRequest null (blocking commands).
 */
export function bullConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * On Redis Cluster BullMQ gets a Cluster client (its scripts need every key of a queue in one slot,
 * which the hash-tagged prefix gives). The caller disconnects it when done.
 */
export function bullClusterConnection(
  url: string,
  failFast?: { enableOfflineQueue: false; maxRetriesPerRequest: number },
): Cluster {
  const u = new URL(url);
  // BullMQ reports the errors of the queues and workers that use it; this keeps one emitted before
  // they hold the client (or after they let go of it) from being an unhandled 'error' event.
  return quietErrors(
    new Cluster([{ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) }], {
      ...(failFast ? { enableOfflineQueue: false } : {}),
      redisOptions: {
        maxRetriesPerRequest: failFast ? failFast.maxRetriesPerRequest : null,
        ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
        ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    }),
  );
}

/** Connection settings for BullMQ and what to close afterwards. */
export function bullConnectionFor(
  url: string,
  cluster: boolean,
): { connection: ConnectionOptions; close(): void } {
  if (!cluster) return { connection: bullConnection(url), close: () => {} };
  const c = bullClusterConnection(url);
  return { connection: c as unknown as ConnectionOptions, close: () => c.disconnect() };
}

/**
 * Connection settings for the producer side (the API adding, listing, retrying and cancelling jobs):
 * while Redis is away a command fails at once (no offline queue) so that a request answers 503
 * instead of waiting for Redis to return. Workers keep bullConnectionFor (they block and wait).
 */
export function bullQueueConnectionFor(
  url: string,
  cluster: boolean,
): { connection: ConnectionOptions; close(): void } {
  const fast = { enableOfflineQueue: false, maxRetriesPerRequest: 1 } as const;
  if (!cluster) return { connection: { ...bullConnection(url), ...fast }, close: () => {} };
  const c = bullClusterConnection(url, fast);
  return { connection: c as unknown as ConnectionOptions, close: () => c.disconnect() };
}

export interface JobTimingOptions {
  /** How often workers look for jobs whose worker died (ms); such a job goes back to the queue and resumes. */
  readonly stalledIntervalMs?: number;
  /** How long a worker's hold on a job lasts without renewal (ms). */
  readonly lockDurationMs?: number;
}
