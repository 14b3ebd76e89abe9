import { readFileSync } from 'node:fs';
import type { RedisClient } from '../store/redis-client.js';

/**
 * The Lua scripts of src/notify/lua (`name-<numKeys>.lua`, each opening with its KEYS/ARGV/return),
 * registered with defineCommand: EVALSHA, loading the script on NOSCRIPT.
 */
const SCRIPTS = ['append-decisions-1'] as const;
export type NotifyScript = (typeof SCRIPTS)[number];

const commandName = (name: NotifyScript): string => `cgn_${name.replace(/-/g, '_')}`;
const registered = new WeakSet<object>();

/** Registers the scripts on a client; call before creating the pipelines that use them. */
export function prepareNotifyScripts(client: RedisClient): void {
  if (registered.has(client)) return;
  for (const name of SCRIPTS) {
    client.defineCommand(commandName(name), {
      numberOfKeys: Number(name.slice(name.lastIndexOf('-') + 1)),
      lua: readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8'),
    });
  }
  registered.add(client);
}

/** Queues a script on a pipeline of a prepared client (keys then args, as the script's header says). */
export function pipeNotifyScript(
  pipeline: unknown,
  name: NotifyScript,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): void {
  const fn = (pipeline as Record<string, (...a: Array<string | number>) => unknown>)[commandName(name)]!;
  fn.call(pipeline, ...keys, ...args);
}
