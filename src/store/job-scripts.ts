import type { RedisClient } from './redis-client.js';
import { scriptDefinition } from './scripts.js';

/**
 * The bulk jobs' Lua scripts (src/store/lua), registered like scripts.ts does for the rule scripts;
 * they share its includes (the rule layout and indexes) so an import writes rules exactly as the
 * repository does.
 */
const JOB_SCRIPTS = ['import-batch-3'] as const;
export type JobScriptName = (typeof JOB_SCRIPTS)[number];

const commandName = (name: JobScriptName): string => `cgjob_${name.replace(/-/g, '_')}`;
const registered = new WeakSet<object>();

function register(client: RedisClient): void {
  if (registered.has(client)) return;
  for (const name of JOB_SCRIPTS) client.defineCommand(commandName(name), scriptDefinition(name));
  registered.add(client);
}

export function runJobScript(
  client: RedisClient,
  name: JobScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  register(client);
  const fn = (client as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>)[
    commandName(name)
  ]!;
  return fn.call(client, ...keys, ...args);
}
