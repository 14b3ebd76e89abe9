import type { BlocklistType } from '../../../src/domain/blocklist-type.js';
import { NO_OUTCOME, outcomeOf } from '../../../src/domain/blocklist-type.js';
import type { CallContext } from '../../../src/domain/call-context.js';
import type { Decision } from '../../../src/domain/decision.js';
import { patternMatches } from '../../../src/domain/pattern.js';
import { comparePrecedence, precedenceKey } from '../../../src/domain/precedence.js';
import { type CompiledRule, compileRule, isExpired, type Rule } from '../../../src/domain/rule.js';

/**
 * A linear-scan decider straight from the domain rules: the contract suite uses it until (and as a
 * cross-check beside) the compiled engine, so the PBX adapters are tested against DESIGN.md section 1
 * and not against one implementation of it.
 */
export class ReferenceDecider {
  private readonly rules: CompiledRule[];
  private readonly types: Map<string, BlocklistType>;
  private readonly bindings: Map<string, Set<string>>;

  constructor(
    rules: Iterable<Rule>,
    opts: { types?: Iterable<BlocklistType>; bindings?: Iterable<[string, string[]]> } = {},
  ) {
    this.rules = [...rules].map(compileRule);
    this.types = new Map([...(opts.types ?? [])].map((t) => [t.id, t]));
    this.bindings = new Map([...(opts.bindings ?? [])].map(([task, groups]) => [task, new Set(groups)]));
  }

  decide(ctx: CallContext): Decision {
    const groups = ctx.task === undefined ? undefined : this.bindings.get(ctx.task);
    const matching = this.rules.filter((c) => this.matches(c, ctx, groups));
    matching.sort((a, b) => comparePrecedence(precedenceKey(a), precedenceKey(b)));
    const winner = matching[0]?.rule ?? null;
    const runnerUp = matching[1]?.rule ?? null;
    if (!winner)
      return { action: 'allow', rule: null, runnerUp: null, outcome: NO_OUTCOME, why: 'no rule matched' };
    const outcome =
      winner.action === 'block' && winner.typeId !== undefined
        ? outcomeOf(this.types.get(winner.typeId))
        : NO_OUTCOME;
    return {
      action: winner.action,
      rule: winner,
      runnerUp,
      outcome,
      why: `rule ${winner.id} is the most specific`,
    };
  }

  private matches(c: CompiledRule, ctx: CallContext, groups: Set<string> | undefined): boolean {
    const r = c.rule;
    if (r.direction !== 'both' && r.direction !== ctx.direction) return false;
    if (isExpired(r, ctx.at)) return false;
    if (c.called && !patternMatches(c.called, ctx.called)) return false;
    if (c.calling && !patternMatches(c.calling, ctx.calling)) return false;
    if (r.groupId !== undefined && !groups?.has(r.groupId)) return false;
    if (r.sbc !== undefined && r.sbc !== ctx.sbc) return false;
    if (r.provider !== undefined && r.provider !== ctx.provider) return false;
    if (r.customerGroup !== undefined && r.customerGroup !== ctx.customerGroup) return false;
    if (r.user !== undefined && r.user !== ctx.user) return false;
    if (r.callingCountry !== undefined && r.callingCountry !== ctx.callingCountry) return false;
    return true;
  }
}
