import type { Logger } from '../log.js';
import type { RedisClient } from './redis-client.js';
import { LAYOUT_SETTINGS } from './redis-process.js';

export interface ServerCheck {
  /** undefined when the server refused CONFIG GET (managed Redis often does). */
  readonly appendonly: boolean | undefined;
  readonly appendfsync: string | undefined;
  readonly save: string | undefined;
  /** Layout settings below what the memory budget per rule assumes. */
  readonly smallLayout: string[];
}

async function configGet(client: RedisClient, name: string): Promise<string | undefined> {
  try {
    const reply = (await client.config('GET', name)) as unknown as string[];
    return reply.length >= 2 ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the server's persistence and encoding settings at start and warns when acknowledged writes
 * could be lost on a restart (no AOF) or when rules would take more memory than planned.
 */
export async function checkServer(client: RedisClient, log: Logger): Promise<ServerCheck> {
  const [appendonly, appendfsync, save] = await Promise.all([
    configGet(client, 'appendonly'),
    configGet(client, 'appendfsync'),
    configGet(client, 'save'),
  ]);
  const smallLayout: string[] = [];
  for (const [name, wanted] of LAYOUT_SETTINGS) {
    const value = await configGet(client, name);
    if (value !== undefined && Number(value) < Number(wanted))
      smallLayout.push(`${name}=${value} (want ${wanted})`);
  }
  const check: ServerCheck = {
    appendonly: appendonly === undefined ? undefined : appendonly === 'yes',
    appendfsync,
    save,
    smallLayout,
  };
  if (appendonly === undefined) {
    log.info(
      'Redis refused CONFIG GET; cannot tell whether rule writes survive a restart (AOF is recommended)',
    );
  } else if (appendonly !== 'yes') {
    log.warn(
      { appendonly, save: save || 'off' },
      save
        ? 'Redis AOF is off: rule writes since the last RDB save are lost if Redis restarts; set appendonly yes'
        : 'Redis has no persistence at all: every rule is lost if Redis restarts; set appendonly yes',
    );
  } else if (appendfsync === 'no') {
    log.warn(
      { appendfsync },
      'Redis AOF is not fsynced (appendfsync no): recent rule writes can be lost on a crash',
    );
  }
  if (smallLayout.length > 0) {
    log.warn(
      { settings: smallLayout },
      'Redis encoding limits are below what callguard sizes its rule storage for',
    );
  }
  return check;
}
