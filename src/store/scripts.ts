import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-client.js';

/**
 * The Lua scripts of src/store/lua, registered on a client with defineCommand (EVALSHA, loading the
 * script on NOSCRIPT). `--- @include "name"` lines pull in lua/includes/name.lua.
 */
const SCRIPT_NAMES = [
  'write-rules-3',
  'delete-rules-3',
  'purge-expired-3',
  'set-field-3',
  'append-change-2',
  'flip-snapshot-2',
  'announce-tenant-3',
  'lane-enter-3',
  'lane-leave-3',
  'append-decisions-1',
  'count-attempts-1',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const lua = (path: string): string => readFileSync(new URL(`./lua/${path}`, import.meta.url), 'utf8');

function withIncludes(source: string): string {
  return source.replace(/^--- @include "([a-z-]+)"$/gm, (_m, name: string) => lua(`includes/${name}.lua`));
}

/** The defineCommand definition of lua/<name>.lua: its includes pulled in, its key count from the name's suffix. */
export const scriptDefinition = (name: string): { numberOfKeys: number; lua: string } => ({
  numberOfKeys: Number(name.slice(name.lastIndexOf('-') + 1)),
  lua: withIncludes(lua(`${name}.lua`)),
});

const sources = new Map<ScriptName, { numberOfKeys: number; lua: string }>(
  SCRIPT_NAMES.map((name) => [name, scriptDefinition(name)]),
);

const commandName = (name: ScriptName): string => `cg_${name.replace(/-/g, '_')}`;
const registered = new WeakSet<object>();

type ScriptFn = (...args: Array<string | number | Buffer>) => Promise<unknown>;

function register(client: RedisClient): void {
  if (registered.has(client)) return;
  for (const [name, def] of sources) client.defineCommand(commandName(name), def);
  registered.add(client);
}

/** Runs a script; keys and args as the script's header comment lists them. */
export function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  register(client);
  const fn = (client as unknown as Record<string, ScriptFn>)[commandName(name)]!;
  return fn.call(client, ...keys, ...args);
}

/** Queues a script on a pipeline of a client on which runScript or prepareScripts ran. */
export function pipeScript(
  pipeline: unknown,
  name: ScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): void {
  const fn = (pipeline as Record<string, (...a: Array<string | number>) => unknown>)[commandName(name)]!;
  fn.call(pipeline, ...keys, ...args);
}

export function prepareScripts(client: RedisClient): void {
  register(client);
}

/** The script source after includes (tests and docs). */
export function scriptSource(name: ScriptName): string {
  return sources.get(name)!.lua;
}
