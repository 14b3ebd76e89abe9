import { z } from 'zod';
import { cgError } from '../domain/errors.js';
import { ANONYMOUS, normalizeNumber, stripNumber } from '../domain/number.js';
import { type Pattern, parseCanonicalPattern, parsePattern, patternMatches } from '../domain/pattern.js';
import { actionSchema, directionSchema, nameSchema, type Rule } from '../domain/rule.js';
import type { DecisionEngine } from '../engine/decision-engine.js';
import type { TenantParams } from '../store/tenant-params.js';
import type { ApiDeps } from './api-deps.js';
import { decodeCursor, encodeCursor } from './schemas.js';

const boolFlag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true');
const isoTime = z.iso.datetime({ offset: true, message: 'an ISO 8601 time such as 2026-11-22T10:00:00Z' });

/** Which rules a query (or a bulk delete) selects. Every filter given must hold. */
export const ruleFilterShape = {
  number: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .optional()
    .describe('A number or pattern; how it is compared is `match`.'),
  match: z
    .enum(['exact', 'matching', 'prefix'])
    .default('exact')
    .describe(
      'exact: rules whose pattern is exactly `number` (a number or a pattern); matching: every rule whose pattern matches the number; prefix: rules whose pattern digits start with `number`.',
    ),
  side: z
    .enum(['called', 'calling'])
    .optional()
    .describe('Compare with the called or the calling pattern (default both).'),
  group: nameSchema.optional(),
  type: nameSchema.optional(),
  ou: nameSchema.optional(),
  direction: directionSchema.optional(),
  action: actionSchema.optional(),
  expiresAfter: isoTime.optional().describe('Only rules expiring after this time.'),
  expiresBefore: isoTime.optional().describe('Only rules expiring before this time.'),
  permanent: boolFlag.optional().describe('true: only rules without expiry; false: only rules with one.'),
};
const filterObject = z.object(ruleFilterShape);
export type RuleFilter = z.output<typeof filterObject>;

export const RULE_SORTS = [
  'id',
  '-id',
  'updatedAt',
  '-updatedAt',
  'expiresAt',
  '-expiresAt',
  'called',
  '-called',
] as const;
export type RuleSort = (typeof RULE_SORTS)[number];

/** Upper bound of candidates one query looks at: a query wider than this must be narrowed. */
export const MAX_QUERY_RULES = 2_000_000;

export function hasFilter(f: RuleFilter): boolean {
  return (
    f.number !== undefined ||
    f.group !== undefined ||
    f.type !== undefined ||
    f.ou !== undefined ||
    f.direction !== undefined ||
    f.action !== undefined ||
    f.expiresAfter !== undefined ||
    f.expiresBefore !== undefined ||
    f.permanent !== undefined
  );
}

async function drainPages(
  next: (after: string | undefined) => Promise<{ items: Rule[]; next: string | undefined }>,
): Promise<Rule[]> {
  const out: Rule[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await next(after);
    out.push(...page.items);
    if (!page.next || out.length >= MAX_QUERY_RULES) return out;
    after = page.next;
  }
}

/** The node's synced engine for a tenant, loading it when the node has not yet (bounded wait). */
export async function loadedEngine(deps: ApiDeps, tenant: string, waitMs = 10_000): Promise<DecisionEngine> {
  const sync = deps.registry.ensure(tenant);
  let engine = sync.engine();
  if (!engine) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sync.ready, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    engine = sync.engine();
  }
  if (!engine)
    throw cgError('CG_ERR_UNAVAILABLE', `the rules of this tenant are not loaded yet; try again shortly`);
  return engine;
}

function sidesOf(f: RuleFilter): Array<'called' | 'calling'> {
  return f.side ? [f.side] : ['called', 'calling'];
}

/** The rules a filter's most selective index gives, before the remaining filters. */
async function candidates(
  deps: ApiDeps,
  tenant: string,
  f: RuleFilter,
  params: TenantParams,
): Promise<Rule[]> {
  const policy = params.normalization;
  if (f.number !== undefined) {
    if (f.match === 'exact') {
      const side = f.side ?? (f.number.toLowerCase() === ANONYMOUS ? 'calling' : 'called');
      const text = parsePattern(f.number, side, policy).text;
      return deps.rules.findByPattern(tenant, text, f.side);
    }
    if (f.match === 'prefix') {
      const digits = stripNumber(f.number);
      return drainPages((after) =>
        deps.rules.findByPrefix(tenant, digits, { side: f.side, after, limit: 10_000 }),
      );
    }
    const number = f.number.toLowerCase() === ANONYMOUS ? ANONYMOUS : normalizeNumber(f.number, policy);
    const engine = await loadedEngine(deps, tenant);
    const parsed = new Map<string, Pattern>();
    const pattern = (text: string, side: 'called' | 'calling') => {
      let p = parsed.get(text);
      if (!p) {
        p = parseCanonicalPattern(text, side);
        parsed.set(text, p);
      }
      return p;
    };
    const ids: number[] = [];
    for (const r of engine.rules()) {
      for (const side of sidesOf(f)) {
        const text = r[side];
        if (text !== undefined && patternMatches(pattern(text, side), number)) {
          ids.push(r.id);
          break;
        }
      }
    }
    ids.sort((a, b) => a - b);
    return deps.rules.getMany(tenant, ids);
  }
  const by =
    f.group !== undefined ? 'group' : f.type !== undefined ? 'type' : f.ou !== undefined ? 'ou' : undefined;
  if (by) {
    const value = (by === 'group' ? f.group : by === 'type' ? f.type : f.ou) as string;
    return drainPages((after) => deps.rules.listBy(tenant, by, value, { after, limit: 10_000 }));
  }
  const out: Rule[] = [];
  for await (const batch of deps.rules.scan(tenant)) {
    out.push(...batch);
    if (out.length >= MAX_QUERY_RULES) break;
  }
  return out;
}

function matchesFilter(r: Rule, f: RuleFilter, scope: ReadonlySet<string> | undefined): boolean {
  if (scope !== undefined && (r.ou === undefined || !scope.has(r.ou))) return false;
  if (f.group !== undefined && r.groupId !== f.group) return false;
  if (f.type !== undefined && r.typeId !== f.type) return false;
  if (f.ou !== undefined && r.ou !== f.ou) return false;
  if (f.direction !== undefined && r.direction !== f.direction) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.permanent !== undefined && (r.expiresAt === undefined) !== f.permanent) return false;
  if (
    f.expiresAfter !== undefined &&
    (r.expiresAt === undefined || r.expiresAt <= Date.parse(f.expiresAfter))
  )
    return false;
  if (
    f.expiresBefore !== undefined &&
    (r.expiresAt === undefined || r.expiresAt >= Date.parse(f.expiresBefore))
  )
    return false;
  return true;
}

/** Every rule of the tenant the filter selects and the caller may see, in id order. */
export async function selectRules(
  deps: ApiDeps,
  tenant: string,
  f: RuleFilter,
  params: TenantParams,
  scope: ReadonlySet<string> | undefined,
): Promise<Rule[]> {
  const all = await candidates(deps, tenant, f, params);
  const seen = new Set<number>();
  return all
    .filter((r) => {
      if (seen.has(r.id)) return false;
      seen.add(r.id);
      return matchesFilter(r, f, scope);
    })
    .sort((a, b) => a.id - b.id);
}

type SortValue = string | number;
function sortValue(r: Rule, field: string): SortValue {
  if (field === 'updatedAt') return r.updatedAt;
  if (field === 'expiresAt') return r.expiresAt ?? Number.MAX_SAFE_INTEGER;
  if (field === 'called') return r.called ?? '';
  return r.id;
}

const isCursor = (v: unknown): v is [SortValue, number] =>
  Array.isArray(v) &&
  v.length === 2 &&
  (typeof v[0] === 'string' || typeof v[0] === 'number') &&
  typeof v[1] === 'number';

/**
 * One page in a total order (the sort field, then id). The cursor is the last item's (value, id), so a
 * page boundary stays put when rules are added or removed between requests.
 */
export function pageRules(
  rules: readonly Rule[],
  sort: RuleSort,
  limit: number,
  cursor: string | undefined,
): { items: Rule[]; total: number; next?: string } {
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const cmp = (a: [SortValue, number], b: [SortValue, number]): number => {
    const c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];
    return desc ? -c : c;
  };
  const keyed = rules.map((r) => [[sortValue(r, field), r.id] as [SortValue, number], r] as const);
  keyed.sort((a, b) => cmp(a[0], b[0]));
  const after = decodeCursor(cursor, isCursor);
  let start = 0;
  if (after) {
    start = keyed.findIndex(([k]) => cmp(k, after) > 0);
    if (start < 0) start = keyed.length;
  }
  const slice = keyed.slice(start, start + limit);
  const more = start + limit < keyed.length;
  const last = slice[slice.length - 1];
  return {
    items: slice.map(([, r]) => r),
    total: rules.length,
    ...(more && last ? { next: encodeCursor(last[0]) } : {}),
  };
}
