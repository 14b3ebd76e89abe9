import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CallContext } from '../../src/domain/call-context.js';
import type { Action, Rule } from '../../src/domain/rule.js';

/**
 * The plain reference, written from DESIGN.md section 1 alone: it imports types from src/ and no
 * logic, so the property tests check the compiled index (and the domain code it is built from)
 * against an independent reading of the contract. Slow and obviously right: every rule is tested
 * against the call and the matches are sorted by the precedence list, step by step.
 */

/** How a call's number says "no caller id" once the call context is built (DESIGN.md: `anonymous`). */
const ANONYMOUS_NUMBER = 'anonymous';

type Kind = 'exact' | 'range' | 'dot' | 'bang' | 'anonymous';

interface ReadPattern {
  readonly kind: Kind;
  /** The literal characters of the pattern (all of them for an exact number). */
  readonly literal: string;
  /** For a range: how many trailing X digits follow the literal. */
  readonly xs: number;
}

/** Reads a stored (canonical) pattern: 14045266123, _1404!, _1404., _1404XXX, anonymous. */
function readPattern(text: string): ReadPattern {
  if (text === 'anonymous') return { kind: 'anonymous', literal: '', xs: 0 };
  if (!text.startsWith('_')) return { kind: 'exact', literal: text, xs: 0 };
  const body = text.slice(1);
  if (body.endsWith('!')) return { kind: 'bang', literal: body.slice(0, -1), xs: 0 };
  if (body.endsWith('.')) return { kind: 'dot', literal: body.slice(0, -1), xs: 0 };
  const literal = body.replace(/X+$/, '');
  const xs = body.length - literal.length;
  return xs === 0 ? { kind: 'exact', literal, xs: 0 } : { kind: 'range', literal, xs };
}

/** Does the pattern match the call's number? (No number pattern matches anonymous or an empty number.) */
function matches(p: ReadPattern, num: string): boolean {
  if (p.kind === 'anonymous') return num === ANONYMOUS_NUMBER;
  if (num === ANONYMOUS_NUMBER || num === '') return false;
  if (!num.startsWith(p.literal)) return false;
  const rest = num.slice(p.literal.length);
  switch (p.kind) {
    case 'exact':
      return rest.length === 0;
    case 'bang':
      return true;
    case 'dot':
      return rest.length >= 1;
    case 'range':
      return rest.length === p.xs && /^[0-9]*$/.test(rest);
  }
}

/** Kinds from most to least specific: exact (anonymous counts as exact) > X range > `.` prefix > `!` prefix. */
const KIND_ORDER: Record<Kind, number> = { anonymous: 3, exact: 3, range: 2, dot: 1, bang: 0 };

/** Compares one side's specificity, positive when a is more specific; an absent side is below any pattern. */
function compareSide(a: ReadPattern | undefined, b: ReadPattern | undefined): number {
  if (a === undefined || b === undefined) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.literal.length !== b.literal.length) return a.literal.length - b.literal.length;
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
}

/** user > customerGroup > provider > sbc > none. */
function deepestScope(r: Rule): number {
  if (r.user !== undefined) return 4;
  if (r.customerGroup !== undefined) return 3;
  if (r.provider !== undefined) return 2;
  if (r.sbc !== undefined) return 1;
  return 0;
}

function scopeFieldsSet(r: Rule): number {
  return [r.sbc, r.provider, r.customerGroup, r.user].filter((v) => v !== undefined).length;
}

interface Match {
  readonly rule: Rule;
  readonly called: ReadPattern | undefined;
  readonly calling: ReadPattern | undefined;
}

/** Negative when a wins over b: DESIGN.md's precedence list, one step after the other. */
function precedes(a: Match, b: Match): number {
  const steps: (() => number)[] = [
    () => compareSide(a.called, b.called),
    () => compareSide(a.calling, b.calling),
    () => deepestScope(a.rule) - deepestScope(b.rule),
    () => scopeFieldsSet(a.rule) - scopeFieldsSet(b.rule),
    () => Number(a.rule.groupId !== undefined) - Number(b.rule.groupId !== undefined),
    () => Number(a.rule.callingCountry !== undefined) - Number(b.rule.callingCountry !== undefined),
    () => Number(a.rule.action === 'block') - Number(b.rule.action === 'block'),
    () => a.rule.updatedAt - b.rule.updatedAt,
    () => b.rule.id - a.rule.id,
  ];
  for (const step of steps) {
    const d = step();
    if (d !== 0) return -d;
  }
  return 0;
}

/** The call's calling country: as given, else the country that owns the calling number's E.164 digits. */
function callingCountry(ctx: CallContext): string | undefined {
  if (ctx.callingCountry !== undefined) return ctx.callingCountry;
  if (!/^[0-9]{4,}$/.test(ctx.calling)) return undefined;
  return parsePhoneNumberFromString(`+${ctx.calling}`)?.country;
}

export function referenceDecide(
  rules: readonly Rule[],
  ctx: CallContext,
  options: { bindings?: ReadonlyMap<string, ReadonlySet<string>>; defaultAction?: Action } = {},
): { action: Action; ruleId: number | null; runnerUpId: number | null } {
  const boundGroups = ctx.task === undefined ? undefined : options.bindings?.get(ctx.task);
  const matching: Match[] = [];
  for (const rule of rules) {
    if (rule.direction !== 'both' && rule.direction !== ctx.direction) continue;
    if (rule.expiresAt !== undefined && rule.expiresAt <= ctx.at) continue;
    if (rule.groupId !== undefined && !boundGroups?.has(rule.groupId)) continue;
    if (rule.sbc !== undefined && rule.sbc !== ctx.sbc) continue;
    if (rule.provider !== undefined && rule.provider !== ctx.provider) continue;
    if (rule.customerGroup !== undefined && rule.customerGroup !== ctx.customerGroup) continue;
    if (rule.user !== undefined && rule.user !== ctx.user) continue;
    if (rule.callingCountry !== undefined && rule.callingCountry !== callingCountry(ctx)) continue;
    const called = rule.called === undefined ? undefined : readPattern(rule.called);
    const calling = rule.calling === undefined ? undefined : readPattern(rule.calling);
    if (called && !matches(called, ctx.called)) continue;
    if (calling && !matches(calling, ctx.calling)) continue;
    matching.push({ rule, called, calling });
  }
  matching.sort(precedes);
  if (matching.length === 0)
    return { action: options.defaultAction ?? 'allow', ruleId: null, runnerUpId: null };
  return {
    action: matching[0].rule.action,
    ruleId: matching[0].rule.id,
    runnerUpId: matching[1]?.rule.id ?? null,
  };
}
