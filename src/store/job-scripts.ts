import { jobKeys, tenantKeys } from './keys.js';
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

/** One batch of an import: a contiguous range of file lines, their row errors and encoded rules. */
export interface ImportBatch {
  readonly first: number;
  readonly last: number;
  /** Data rows read in the range. */
  readonly read: number;
  /** Row errors as CSV lines. */
  readonly errors: readonly string[];
  /** Rules encoded by rule-codec.ts. */
  readonly rules: readonly string[];
  /** The file line of each rule (used for the row errors of a key limited to some OUs). */
  readonly lines?: readonly number[];
}

export interface ImportBatchOptions {
  readonly mode: 'skip' | 'override';
  /** Most errors kept in the job's error list. */
  readonly keepErrors: number;
  /** Record the ids the import touched (overwrite-all purges the rest afterwards). */
  readonly trackSeen: boolean;
  /** The OUs of the importing key, when it is limited to some: a duplicate outside them is a row error. */
  readonly keyOus?: readonly string[];
}

/**
 * Applies one import batch with import-batch-3.lua: the rules with their duplicate handling and
 * indexes, the errors and the progress mark, all or nothing. `applied` is 1, 0 when the range was
 * applied before (a resumed job), -1 when it overlaps the progress mark.
 */
export async function applyImportBatch(
  client: RedisClient,
  tenant: string,
  jobId: string,
  batch: ImportBatch,
  options: ImportBatchOptions,
): Promise<{ applied: number; imported: number; skipped: number; refused: number }> {
  const k = jobKeys(tenant, jobId);
  const t = tenantKeys(tenant);
  const raw = await runJobScript(
    client,
    'import-batch-3',
    [t.ruleSeq, k.progress, k.errors],
    [
      t.prefix,
      options.mode,
      batch.first,
      batch.last,
      batch.read,
      batch.errors.length,
      options.keepErrors,
      options.trackSeen ? '1' : '0',
      options.keyOus ? options.keyOus.join('\u001f') : '',
      options.keyOus ? (batch.lines ?? []).join(',') : '',
      ...batch.errors,
      ...batch.rules,
    ],
  );
  const [applied, imported, skipped, refused] = (raw as number[]).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return { applied, imported, skipped, refused };
}
