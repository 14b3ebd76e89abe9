import { type CallContext, callingCountryOf } from '../../src/domain/call-context.js';
import { patternMatches } from '../../src/domain/pattern.js';
import { comparePrecedence, precedenceKey } from '../../src/domain/precedence.js';
import { type Action, compileRule, isExpired, type Rule } from '../../src/domain/rule.js';

/**
 * The plain reference: evaluate every rule, sort the matches by the precedence comparator. Slow and
 * obviously right; the compiled index must agree with it on every call.
 */
export function referenceDecide(
  rules: readonly Rule[],
  ctx: CallContext,
  options: { bindings?: ReadonlyMap<string, ReadonlySet<string>>; defaultAction?: Action } = {},
): { action: Action; ruleId: number | null; runnerUpId: number | null } {
  const groups = ctx.task === undefined ? undefined : options.bindings?.get(ctx.task);
  const matching = rules
    .map(compileRule)
    .filter(({ rule, called, calling }) => {
      if (rule.direction !== 'both' && rule.direction !== ctx.direction) return false;
      if (isExpired(rule, ctx.at)) return false;
      if (rule.groupId !== undefined && !groups?.has(rule.groupId)) return false;
      if (rule.sbc !== undefined && rule.sbc !== ctx.sbc) return false;
      if (rule.provider !== undefined && rule.provider !== ctx.provider) return false;
      if (rule.customerGroup !== undefined && rule.customerGroup !== ctx.customerGroup) return false;
      if (rule.user !== undefined && rule.user !== ctx.user) return false;
      if (rule.callingCountry !== undefined && rule.callingCountry !== callingCountryOf(ctx)) return false;
      if (called && !patternMatches(called, ctx.called)) return false;
      if (calling && !patternMatches(calling, ctx.calling)) return false;
      return true;
    })
    .sort((a, b) => comparePrecedence(precedenceKey(a), precedenceKey(b)));
  if (matching.length === 0)
    return { action: options.defaultAction ?? 'allow', ruleId: null, runnerUpId: null };
  return {
    action: matching[0].rule.action,
    ruleId: matching[0].rule.id,
    runnerUpId: matching[1]?.rule.id ?? null,
  };
}
