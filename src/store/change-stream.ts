import { type BlocklistType, blocklistTypeSchema } from '../domain/blocklist-type.js';
import { type ContactPolicy, contactPolicySchema } from '../domain/contact-policy.js';
import type { Rule } from '../domain/rule.js';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { decodeRule, SEP } from './rule-codec.js';
import { readParams, type TenantParams } from './tenant-params.js';

/**
 * One entry of a tenant's change stream, decoded. `prev` is the entry before it: a reader whose
 * position is not `prev` missed entries (trimmed away) and must reload.
 */
export type Change =
  | { readonly kind: 'upsert'; readonly rule: Rule }
  | { readonly kind: 'delete'; readonly ids: readonly number[] }
  | { readonly kind: 'bind'; readonly task: string; readonly groups: readonly string[] }
  | { readonly kind: 'type'; readonly id: string; readonly type: BlocklistType | null }
  /** A contact policy written (null: deleted). */
  | { readonly kind: 'policy'; readonly id: string; readonly policy: ContactPolicy | null }
  /** An outbound task bound to exactly these contact policies. */
  | { readonly kind: 'taskPolicies'; readonly task: string; readonly policies: readonly string[] }
  /** `json` as stored: a node reads it against the params it has, so a field it cannot read keeps its value. */
  | { readonly kind: 'params'; readonly params: TenantParams; readonly json: string }
  | { readonly kind: 'reload'; readonly scope: string }
  /** A snapshot covering `version` was stored: a node with a large delta overlay may swap to it. */
  | { readonly kind: 'snapshot'; readonly version: string }
  | { readonly kind: 'unknown'; readonly op: string }
  /** An entry this version cannot decode (damaged, or written wrong): skipped, and the node reloads. */
  | { readonly kind: 'bad'; readonly reason: string };

export interface ChangeEntry {
  readonly version: string;
  readonly prev: string;
  readonly change: Change;
}

export const ZERO_VERSION = '0-0';

/** Orders stream ids ("ms-seq"). */
export function compareVersions(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

function ruleId(text: string | undefined): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`rule id "${text}" is not a number`);
  return id;
}

function decodeChange(f: Map<string, string>): Change {
  const op = f.get('op') ?? '';
  switch (op) {
    case 'u':
      return { kind: 'upsert', rule: decodeRule(ruleId(f.get('id')), f.get('r') ?? '') };
    case 'd':
      return { kind: 'delete', ids: (f.get('ids') ?? '').split(',').filter(Boolean).map(ruleId) };
    case 'b': {
      const groups = f.get('groups') ?? '';
      return { kind: 'bind', task: f.get('task') ?? '', groups: groups === '' ? [] : groups.split(SEP) };
    }
    case 'ty': {
      const json = f.get('type') ?? '';
      const parsed = json === '' ? null : blocklistTypeSchema.safeParse(JSON.parse(json));
      return { kind: 'type', id: f.get('id') ?? '', type: parsed?.success ? parsed.data : null };
    }
    case 'cp': {
      const json = f.get('policy') ?? '';
      // A policy this version cannot read is a bad entry (the node reloads), never a silent skip.
      return {
        kind: 'policy',
        id: f.get('id') ?? '',
        policy: json === '' ? null : contactPolicySchema.parse(JSON.parse(json)),
      };
    }
    case 'tp': {
      const ids = f.get('policies') ?? '';
      return { kind: 'taskPolicies', task: f.get('task') ?? '', policies: ids === '' ? [] : ids.split(SEP) };
    }
    case 'pa': {
      const json = f.get('params') ?? '';
      JSON.parse(json);
      return { kind: 'params', params: readParams(json), json };
    }
    case 'rl':
      return { kind: 'reload', scope: f.get('scope') ?? 'all' };
    case 'sn':
      return { kind: 'snapshot', version: f.get('version') ?? ZERO_VERSION };
    default:
      return { kind: 'unknown', op };
  }
}

/** Decodes one stream entry; never throws: an entry it cannot read comes back as kind `bad`. */
export function decodeEntry([version, fields]: [string, string[]]): ChangeEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  let change: Change;
  try {
    change = decodeChange(map);
  } catch (error) {
    change = { kind: 'bad', reason: (error as Error).message };
  }
  return { version, prev: map.get('p') ?? ZERO_VERSION, change };
}

/** Reading a tenant's change stream. */
export class ChangeStream {
  constructor(private readonly client: RedisClient) {}

  /** The tenant's current rules version (the last change id), 0-0 when none. */
  async version(tenant: string): Promise<string> {
    return (await this.client.get(tenantKeys(tenant).version)) ?? ZERO_VERSION;
  }

  /** Entries after `after`, oldest first. */
  async after(tenant: string, after: string, count = 1000): Promise<ChangeEntry[]> {
    const raw = (await this.client.xrange(
      tenantKeys(tenant).changes,
      `(${after}`,
      '+',
      'COUNT',
      count,
    )) as Array<[string, string[]]>;
    return raw.map(decodeEntry);
  }

  async length(tenant: string): Promise<number> {
    return this.client.xlen(tenantKeys(tenant).changes);
  }
}
