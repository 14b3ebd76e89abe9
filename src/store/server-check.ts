import type { Logger } from '../log.js';
import type { RedisClient } from './redis-client.js';
import { LAYOUT_SETTINGS } from './redis-process.js';

export interface ServerCheck {
  /** undefined when the server refused CONFIG GET (managed Redis often does). */
  readonly appendonly: boolean | undefined;
  readonly appendfsync: string | undefined;
  readonly save: string | undefined;
  /** What Redis does when full (`noeviction`: refuses writes; anything else drops keys). */
  readonly maxmemoryPolicy: string | undefined;
  /** Bytes, '0' for no limit. */
  readonly maxmemory: string | undefined;
  /** `redis_version` from INFO server; undefined when the server would not say. */
  readonly version: string | undefined;
  /** `redis_mode` from INFO server (standalone, cluster, sentinel); undefined when it would not say. */
  readonly mode: string | undefined;
  /** Layout settings below what the memory budget per rule assumes, as `name value (want N)`. */
  readonly smallLayout: string[];
}

/** What a server's settings risk: the sentence serve logs and doctor prints, and what to do. */
export interface ServerAdvice {
  /** info: cannot tell; warn: writes can be lost, or rules take more memory than planned. */
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fix: string;
}

export const LAYOUT_FIX = `set in redis.conf (or with redis-cli CONFIG SET): ${LAYOUT_SETTINGS.map(([n, v]) => `${n} ${v}`).join(', ')}`;

async function configGet(client: Pick<RedisClient, 'config'>, name: string): Promise<string | undefined> {
  try {
    const reply = (await client.config('GET', name)) as unknown as string[];
    return reply.length >= 2 ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the server's persistence and encoding settings. */
export async function readServerSettings(client: Pick<RedisClient, 'config' | 'info'>): Promise<ServerCheck> {
  const info = await client.info('server').catch(() => '');
  const version = /redis_version:([^\r\n]+)/.exec(info)?.[1];
  const mode = /redis_mode:(\w+)/.exec(info)?.[1];
  const [appendonly, appendfsync, save, maxmemoryPolicy, maxmemory] = await Promise.all([
    configGet(client, 'appendonly'),
    configGet(client, 'appendfsync'),
    configGet(client, 'save'),
    configGet(client, 'maxmemory-policy'),
    configGet(client, 'maxmemory'),
  ]);
  const smallLayout: string[] = [];
  for (const [name, wanted] of LAYOUT_SETTINGS) {
    const value = await configGet(client, name);
    if (value !== undefined && Number(value) < Number(wanted))
      smallLayout.push(`${name} ${value} (want ${wanted})`);
  }
  return {
    appendonly: appendonly === undefined ? undefined : appendonly === 'yes',
    appendfsync,
    save,
    maxmemoryPolicy,
    maxmemory,
    version,
    mode,
    smallLayout,
  };
}

/** The oldest Redis callguard is built and tested for (listpack encodings, SMISMEMBER). */
export const MIN_REDIS = '7.0';

/** Whether the server is older than MIN_REDIS; undefined when it is not, or would not say. */
export function versionAdvice(check: Pick<ServerCheck, 'version'>): ServerAdvice | undefined {
  const major = /^(\d+)\./.exec(check.version ?? '')?.[1];
  if (major === undefined || Number(major) >= 7) return undefined;
  return {
    level: 'warn',
    message: `Redis ${check.version} is older than ${MIN_REDIS}, the oldest callguard is built and tested for: its storage layout settings do not exist there`,
    fix: `upgrade Redis to ${MIN_REDIS} or later`,
  };
}

/** Whether acknowledged rule writes survive a restart or a crash; undefined when they do. */
export function persistenceAdvice(check: ServerCheck): ServerAdvice | undefined {
  const fix = 'redis-cli CONFIG SET appendonly yes (and appendonly yes in redis.conf)';
  if (check.appendonly === undefined)
    return {
      level: 'info',
      message:
        'Redis refused CONFIG GET; cannot tell whether rule writes survive a restart (AOF is recommended)',
      fix: 'make sure the managed Redis has AOF (or equivalent durability) enabled',
    };
  if (!check.appendonly)
    return check.save
      ? {
          level: 'warn',
          message: 'Redis AOF is off: rule writes since the last RDB save are lost if Redis restarts',
          fix,
        }
      : {
          level: 'warn',
          message: 'Redis has no persistence at all: every rule is lost if Redis restarts',
          fix,
        };
  if (check.appendfsync === 'no')
    return {
      level: 'warn',
      message: 'Redis AOF is not fsynced (appendfsync no): recent rule writes can be lost on a crash',
      fix: 'redis-cli CONFIG SET appendfsync everysec (and in redis.conf)',
    };
  return undefined;
}

/**
 * Whether Redis may drop keys when it is full; undefined when it refuses writes instead (noeviction). A rule dropped that way is a number dialled that the list forbids, with no error
 * anywhere, so this is a warning even while no memory limit is set.
 */
export function evictionAdvice(check: ServerCheck): ServerAdvice | undefined {
  const policy = check.maxmemoryPolicy;
  const fix =
    "redis-cli CONFIG SET maxmemory-policy noeviction (and in redis.conf): callguard's keys are its data, not a cache";
  if (policy === undefined)
    return {
      level: 'info',
      message:
        'Redis refused CONFIG GET; cannot tell whether it evicts keys when full (maxmemory-policy noeviction is needed)',
      fix,
    };
  if (policy === 'noeviction') return undefined;
  const limit =
    check.maxmemory === undefined || check.maxmemory === '0'
      ? 'no limit set yet'
      : `maxmemory ${check.maxmemory} bytes`;
  return {
    level: 'warn',
    message: `Redis may evict keys when full (maxmemory-policy ${policy}, ${limit}): rules and jobs would vanish without an error`,
    fix,
  };
}

/**
 * Reads the server's settings at start and warns when acknowledged writes could be lost on a restart
 * (no AOF) or when rules would take more memory than planned.
 */
export async function checkServer(client: RedisClient, log: Logger): Promise<ServerCheck> {
  const check = await readServerSettings(client);
  // pino leaves out the undefined fields (a server that refused CONFIG GET)
  const save = check.save === '' ? 'off' : check.save;
  logAdvice(log, persistenceAdvice(check), {
    appendonly: check.appendonly,
    appendfsync: check.appendfsync,
    save,
  });
  logAdvice(log, versionAdvice(check), { redisVersion: check.version });
  logAdvice(log, evictionAdvice(check), { maxmemoryPolicy: check.maxmemoryPolicy });
  if (check.smallLayout.length > 0) {
    log.warn(
      { settings: check.smallLayout },
      'Redis encoding limits are below what callguard sizes its rule storage for',
    );
  }
  return check;
}

/** One advice as one line at its own level, the fix after the message. */
function logAdvice(log: Logger, advice: ServerAdvice | undefined, fields: Record<string, unknown>): void {
  if (advice !== undefined) log[advice.level](fields, `${advice.message}; ${advice.fix}`);
}
