import type { Rule } from '../domain/rule.js';
import { tenantKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import type { ImportParams } from './import-params.js';
import type { RowError } from './rules-csv.js';

/** What a row of an import is checked against besides its own fields: the tenant's catalog, the key, the scope. */
export interface ImportRowContext {
  readonly groups: ReadonlySet<string>;
  readonly types: ReadonlySet<string>;
  readonly ous: ReadonlySet<string>;
  /** The OUs of the key that started the job (undefined: every OU). */
  readonly keyOus: ReadonlySet<string> | undefined;
  readonly params: ImportParams;
}

/** Reads the catalog names once per run (the API checks each rule against the same hashes). */
export async function importRowContext(
  client: RedisClient,
  tenant: string,
  params: ImportParams,
  keyOus: readonly string[] | undefined,
): Promise<ImportRowContext> {
  const k = tenantKeys(tenant);
  const [groups, types, ous] = await Promise.all([
    client.hkeys(k.groups),
    client.hkeys(k.types),
    client.hkeys(k.ous),
  ]);
  return {
    groups: new Set(groups),
    types: new Set(types),
    ous: new Set(ous),
    keyOus: keyOus === undefined ? undefined : new Set(keyOus),
    params,
  };
}

const errorOf = (column: string, reason: string): [string, string] => [column, reason];
const listed = (s: ReadonlySet<string>) => [...s].join(', ') || 'none';

/**
 * Refuses a row the API would refuse (POST /v1/rules): an OU outside the key's, a group, type or OU
 * that does not exist, and in an overwrite a row outside the scope being replaced. The first problem
 * found is the row's error, naming its column.
 */
export function checkImportRow(rule: Rule, line: number, c: ImportRowContext): RowError | undefined {
  const reason = rowProblem(rule, c);
  return reason === undefined ? undefined : { line, column: reason[0], reason: reason[1] };
}

/** [column, reason] of the first problem, or undefined (no closures: this runs per row of large files). */
function rowProblem(rule: Rule, c: ImportRowContext): [string, string] | undefined {
  if (c.keyOus !== undefined && (rule.ou === undefined || !c.keyOus.has(rule.ou))) {
    return rule.ou === undefined
      ? errorOf('ou', `this key is limited to OUs (${listed(c.keyOus)}): each row needs one of them`)
      : errorOf('ou', `ou "${rule.ou}" is not one of this key's OUs (${listed(c.keyOus)})`);
  }
  const p = c.params;
  if (p.overrideRule === 'overwrite' && (rule.ou !== p.ou || rule.groupId !== p.groupId)) {
    return errorOf(
      rule.ou !== p.ou ? 'ou' : 'group',
      `outside the scope being overwritten (ou "${p.ou}", ${p.groupId ? `group "${p.groupId}"` : 'no group'})`,
    );
  }
  if (rule.ou !== undefined && !c.ous.has(rule.ou))
    return errorOf('ou', `OU "${rule.ou}" does not exist; create it first`);
  if (rule.groupId !== undefined && !c.groups.has(rule.groupId))
    return errorOf('group', `group "${rule.groupId}" does not exist; create it first`);
  if (rule.typeId !== undefined && !c.types.has(rule.typeId))
    return errorOf('type', `type "${rule.typeId}" does not exist; create it first`);
  return undefined;
}
