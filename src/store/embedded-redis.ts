import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { findRedisServer, ping, RedisProcess } from './redis-process.js';

export interface EmbeddedRedis {
  readonly url: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * `callguard serve` with no setup: when nothing answers at REDIS_URL (a loopback address) and a
 * redis-server binary is installed, start a private one with AOF on, data in CALLGUARD_DATA_DIR/redis,
 * listening on loopback only. Returns undefined when Redis is already there or cannot be started here.
 */
export async function ensureRedis(config: Config, log: Logger): Promise<EmbeddedRedis | undefined> {
  if (config.CALLGUARD_EMBEDDED_REDIS === 'never' || config.REDIS_CLUSTER) return undefined;
  const url = new URL(config.REDIS_URL);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 6379);
  if (!LOOPBACK.has(host) || url.password || url.protocol !== 'redis:') return undefined;
  if (await ping(host === 'localhost' ? '127.0.0.1' : host, port, 1000)) return undefined;
  const binary = findRedisServer();
  if (!binary) {
    log.warn(
      { url: config.REDIS_URL },
      'no Redis answers and redis-server is not installed; start Redis or set REDIS_URL',
    );
    return undefined;
  }
  const dir = resolve(join(config.CALLGUARD_DATA_DIR, 'redis'));
  mkdirSync(dir, { recursive: true });
  const proc = await RedisProcess.start({
    binary,
    dir,
    port,
    host: '127.0.0.1',
    appendonly: true,
    appendfsync: 'everysec',
  });
  log.info(
    { port, dir, pid: proc.pid },
    'no Redis answered at REDIS_URL; started an embedded redis-server (AOF on, loopback only)',
  );
  return { url: proc.url, stop: () => proc.stop() };
}

/** A Redis URL fit for a log line: the password (and a user name's secret part) replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** The start-up line that names the Redis this process uses, and whether it is the embedded one. */
export function logRedisInUse(
  log: Logger,
  config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER' | 'CALLGUARD_DATA_DIR'>,
  embedded: EmbeddedRedis | undefined,
): void {
  if (embedded) {
    log.info(
      {
        redis: redactRedisUrl(embedded.url),
        embedded: true,
        dir: resolve(join(config.CALLGUARD_DATA_DIR, 'redis')),
      },
      'using the embedded Redis: it runs while this process runs and stops with it; set REDIS_URL for a Redis of your own',
    );
    return;
  }
  log.info(
    { redis: redactRedisUrl(config.REDIS_URL), embedded: false, cluster: config.REDIS_CLUSTER },
    'using the Redis at REDIS_URL',
  );
}
