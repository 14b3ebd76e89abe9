import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A standalone connection or a Redis Cluster client: the store works on both. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  readonly url: string;
  readonly cluster?: boolean;
  /** Extra ioredis options (applied to every node of a cluster). */
  readonly redisOptions?: RedisOptions;
}

/** Reconnect with capped exponential backoff forever: a call node outlives any Redis outage. */
export const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 7), 5000);

export function createRedisClient(options: RedisClientOptions): RedisClient {
  const base: RedisOptions = { retryStrategy, ...options.redisOptions };
  if (!options.cluster) return new Redis(options.url, base);
  const url = new URL(options.url);
  return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...base,
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** A second connection with the same settings, for blocking reads (XREAD BLOCK holds its connection). */
export function duplicateClient(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}
