import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-client.js';

/**
 * The bulk jobs' Lua scripts (src/store/lua), registered like scripts.ts does for the rule scripts;
 * they share its includes (the rule layout and indexes) so an import writes rules exactly as the
 * repository does.
 */
const JOB_SCRIPTS = ['import-batch-3'] as const;
export type JobScriptName = (typeof JOB_SCRIPTS)[number];

const lua = (path: string): string => readFileSync(new URL(`./lua/${path}`, import.meta.url), 'utf8');
const withIncludes = (source: string): string =>
  source.replace(/^--- @include "([a-z-]+)"$/gm, (_m, name: string) => lua(`includes/${name}.lua`));

const commandName = (name: JobScriptName): string => `cgjob_${name.replace(/-/g, '_')}`;
const registered = new WeakSet<object>();

function register(client: RedisClient): void {
  if (registered.has(client)) return;
  for (const name of JOB_SCRIPTS) {
    client.defineCommand(commandName(name), {
      numberOfKeys: Number(name.slice(name.lastIndexOf('-') + 1)),
      lua: withIncludes(lua(`${name}.lua`)),
    });
  }
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
