import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { backoffMs } from '../backoff.js';
import type { Logger } from '../log.js';

/** A standalone connection or a Redis Cluster client: the store works on both. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  readonly url: string;
  readonly cluster?: boolean;
  /** Extra ioredis options (applied to every node of a cluster). */
  readonly redisOptions?: RedisOptions;
  /** Connection errors are logged here (debug: the sync reports outages itself, once each). */
  readonly log?: Logger;
}

/**
 * ioredis prints an "Unhandled error event" for every failed reconnect of a client without an error
 * listener; ours go to the log instead.
 */
export function quietErrors<C extends RedisClient>(client: C, log?: Logger): C {
  client.on('error', (error: Error) => log?.debug({ err: error.message }, 'redis connection error'));
  return client;
}

/** Reconnect with capped exponential backoff forever: a call node outlives any Redis outage. */
export const retryStrategy = (attempt: number): number =>
  backoffMs(attempt + 1, { firstMs: 50, maxMs: 5000, maxDoublings: 7 });

/** Where a client made by createRedisClient connects: a worker thread opens its own connection there. */
export interface RedisConnection {
  readonly url: string;
  readonly cluster: boolean;
}

const connections = new WeakMap<RedisClient, RedisConnection>();

/** The URL and mode `client` was made with (undefined for a client not made by createRedisClient). */
export function connectionOf(client: RedisClient): RedisConnection | undefined {
  return connections.get(client);
}

export function createRedisClient(options: RedisClientOptions): RedisClient {
  const client = makeClient(options);
  connections.set(client, { url: options.url, cluster: options.cluster === true });
  return client;
}

function makeClient(options: RedisClientOptions): RedisClient {
  const base: RedisOptions = { retryStrategy, ...options.redisOptions };
  if (!options.cluster) return quietErrors(new Redis(options.url, base), options.log);
  const url = new URL(options.url);
  const cluster = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...base,
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
  return quietErrors(cluster, options.log);
}

/**
 * A second connection with the same settings, for blocking reads (XREAD BLOCK holds its connection):
 * never a command timeout there (a block outlasts it), whatever the first connection has.
 */
export function duplicateClient(client: RedisClient): RedisClient {
  return quietErrors(
    client instanceof Cluster
      ? client.duplicate(undefined, {
          redisOptions: { ...client.options.redisOptions, commandTimeout: undefined },
        })
      : client.duplicate({ commandTimeout: undefined }),
  );
}

/**
 * A connection BullMQ may block on (a worker's): commands retried forever on it, as BullMQ asks
 * (maxRetriesPerRequest null). Same server as `client`; errors are left to the worker's own logging.
 */
export function blockingWorkerClient(client: RedisClient): RedisClient {
  const c =
    client instanceof Cluster
      ? client.duplicate(undefined, {
          redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null },
        })
      : client.duplicate({ maxRetriesPerRequest: null });
  c.on('error', () => undefined);
  return c;
}

/** How long an API command may take before the request answers 503 (a Redis that hangs, not refuses). */
export const API_COMMAND_TIMEOUT_MS = 1_000;

/**
 * A connection for request handlers: while Redis is away a command fails at once (no offline queue,
 * one retry) or after API_COMMAND_TIMEOUT_MS, so that the API answers 503 within a second instead
 * of holding the request until Redis returns. It reconnects on its own like any other. The call path
 * and the rule sync keep the process's patient connection (their loops retry by themselves).
 */
export function failFastClient(client: RedisClient, log?: Logger): RedisClient {
  const fast = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: API_COMMAND_TIMEOUT_MS };
  return quietErrors(
    client instanceof Cluster
      ? client.duplicate(undefined, {
          enableOfflineQueue: false,
          redisOptions: { ...client.options.redisOptions, ...fast },
        })
      : client.duplicate(fast),
    log,
  );
}

/** Resolves once the client is connected, or after `timeoutMs` (it keeps connecting in the background). */
export async function connectedWithin(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      client.once('ready', onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) client.off('ready', onReady);
  }
}
