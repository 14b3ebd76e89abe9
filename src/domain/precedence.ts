import { specificity } from './pattern.js';
import type { CompiledRule } from './rule.js';

/**
 * The precedence key of a rule (DESIGN.md section 1). Compared lexicographically, highest first:
 *  1. called specificity   14045266123 > _140452661! > _14045266XXX > _14045266! > _1404! > absent
 *  2. calling specificity  (same scale; anonymous counts as exact)
 *  3. scope depth          user > customerGroup > provider > sbc > none; then more scope fields set
 *  4. group-bound (task-specific) over global
 *  5. callingCountry set over not set
 *  6. block over allow
 *  7. most recently updated, then the lower id
 *
 * ClearIP examples:
 *  - `_3712!` blocks Latvian mobiles; an allow for `37120000000` wins over it by step 1 (exact beats prefix).
 *  - `_14045266XXX` blocks a 1000-block; `_140452661!` (9 fixed characters) beats it for 1404526610..., by step 1.
 *  - calling `_1800!` blocked for called 14045266123 only: for that called number the rule beats a global
 *    calling `_1800!` allow, by step 1 (its called side is exact, the other's is absent).
 *  - an allow hole `_1404526612X` inside a blocked `_14045266!` wins by step 1 (10 fixed characters vs 8).
 */
export interface PrecedenceKey {
  readonly called: number;
  readonly calling: number;
  readonly scopeDepth: number;
  readonly scopeCount: number;
  readonly groupBound: number;
  readonly country: number;
  readonly block: number;
  readonly updatedAt: number;
  readonly id: number;
}

export const PRECEDENCE_STEPS = [
  'called specificity',
  'calling specificity',
  'scope depth',
  'number of scope fields',
  'task group over global',
  'calling country set',
  'block over allow',
  'more recently updated',
  'lower id',
] as const;
export type PrecedenceStep = (typeof PRECEDENCE_STEPS)[number];

export function scopeDepth(r: {
  user?: string;
  customerGroup?: string;
  provider?: string;
  sbc?: string;
}): number {
  if (r.user !== undefined) return 4;
  if (r.customerGroup !== undefined) return 3;
  if (r.provider !== undefined) return 2;
  if (r.sbc !== undefined) return 1;
  return 0;
}

export function scopeCount(r: {
  user?: string;
  customerGroup?: string;
  provider?: string;
  sbc?: string;
}): number {
  return (
    (r.user !== undefined ? 1 : 0) +
    (r.customerGroup !== undefined ? 1 : 0) +
    (r.provider !== undefined ? 1 : 0) +
    (r.sbc !== undefined ? 1 : 0)
  );
}

export function precedenceKey(compiled: CompiledRule): PrecedenceKey {
  const r = compiled.rule;
  return {
    called: specificity(compiled.called),
    calling: specificity(compiled.calling),
    scopeDepth: scopeDepth(r),
    scopeCount: scopeCount(r),
    groupBound: r.groupId !== undefined ? 1 : 0,
    country: r.callingCountry !== undefined ? 1 : 0,
    block: r.action === 'block' ? 1 : 0,
    updatedAt: r.updatedAt,
    id: r.id,
  };
}

/** Index of the first precedence step at which a and b differ; -1 only for the same rule (equal ids). */
export function precedenceStep(a: PrecedenceKey, b: PrecedenceKey): number {
  if (a.called !== b.called) return 0;
  if (a.calling !== b.calling) return 1;
  if (a.scopeDepth !== b.scopeDepth) return 2;
  if (a.scopeCount !== b.scopeCount) return 3;
  if (a.groupBound !== b.groupBound) return 4;
  if (a.country !== b.country) return 5;
  if (a.block !== b.block) return 6;
  if (a.updatedAt !== b.updatedAt) return 7;
  if (a.id !== b.id) return 8;
  return -1;
}

/** The one comparator: negative when a takes precedence over b. A total order over distinct ids. */
export function comparePrecedence(a: PrecedenceKey, b: PrecedenceKey): number {
  if (a.called !== b.called) return b.called - a.called;
  if (a.calling !== b.calling) return b.calling - a.calling;
  if (a.scopeDepth !== b.scopeDepth) return b.scopeDepth - a.scopeDepth;
  if (a.scopeCount !== b.scopeCount) return b.scopeCount - a.scopeCount;
  if (a.groupBound !== b.groupBound) return b.groupBound - a.groupBound;
  if (a.country !== b.country) return b.country - a.country;
  if (a.block !== b.block) return b.block - a.block;
  if (a.updatedAt !== b.updatedAt) return b.updatedAt - a.updatedAt;
  return a.id - b.id;
}
