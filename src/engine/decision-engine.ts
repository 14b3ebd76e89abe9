import { type BlocklistType, NO_OUTCOME } from '../domain/blocklist-type.js';
import type { CallContext } from '../domain/call-context.js';
import type { Decision, MatchedRule } from '../domain/decision.js';
import type { Action, Rule } from '../domain/rule.js';
import { type CandidateOwner, CandidateSet, type RuleRef } from './candidates.js';
import { EngineDecision } from './engine-decision.js';
import { buildRuleIndex } from './index-builder.js';
import type { RuleIndex } from './rule-index.js';

export interface EngineOptions {
  readonly types?: Iterable<BlocklistType>;
  /** Outbound task → the blocklist groups bound to it. */
  readonly bindings?: Iterable<readonly [task: string, groups: readonly string[]]>;
  /** The answer when no rule matches (default allow). */
  readonly defaultAction?: Action;
}

interface EngineState {
  readonly base: RuleIndex;
  /** Rules changed since the base was built, compiled small; null when there are none. */
  readonly overlay: RuleIndex | null;
  readonly overlayRules: ReadonlyMap<number, Rule>;
  /** Ids of base rules that were deleted or replaced by a delta; null when none. */
  readonly masked: ReadonlySet<number> | null;
  readonly bindings: ReadonlyMap<string, ReadonlySet<string>>;
  readonly types: ReadonlyMap<string, BlocklistType>;
  readonly defaultAction: Action;
}

function defaultDecision(action: Action): Decision {
  return Object.freeze({
    action,
    rule: null,
    runnerUp: null,
    outcome: NO_OUTCOME,
    why: `no rule matched; the tenant default is ${action}`,
  });
}
const DEFAULTS: Record<Action, Decision> = {
  allow: defaultDecision('allow'),
  block: defaultDecision('block'),
};

function bindingMap(bindings: EngineOptions['bindings']): Map<string, ReadonlySet<string>> {
  const map = new Map<string, ReadonlySet<string>>();
  for (const [task, groups] of bindings ?? []) if (groups.length > 0) map.set(task, new Set(groups));
  return map;
}

/**
 * One tenant's decisions. Immutable: every change returns a new engine built aside, so a node swaps
 * one reference and a lookup never sees half a change. decide() is synchronous and in memory.
 */
export class DecisionEngine {
  private readonly candidates = new CandidateSet();
  private readonly baseScope: { groups: ReadonlySet<string> | undefined; masked: ReadonlySet<number> | null };
  private readonly overlayScope: { groups: ReadonlySet<string> | undefined; masked: null } = {
    groups: undefined,
    masked: null,
  };

  private constructor(private readonly s: EngineState) {
    this.baseScope = { groups: undefined, masked: s.masked };
  }

  static fromRules(rules: Iterable<Rule>, options: EngineOptions = {}): DecisionEngine {
    return DecisionEngine.fromIndex(buildRuleIndex(rules), options);
  }

  static fromIndex(base: RuleIndex, options: EngineOptions = {}): DecisionEngine {
    return new DecisionEngine({
      base,
      overlay: null,
      overlayRules: new Map(),
      masked: null,
      bindings: bindingMap(options.bindings),
      types: new Map([...(options.types ?? [])].map((t) => [t.id, t])),
      defaultAction: options.defaultAction ?? 'allow',
    });
  }

  // hot path
  decide(ctx: CallContext): Decision {
    const set = this.candidates;
    set.reset();
    const groups = ctx.task === undefined ? undefined : this.s.bindings.get(ctx.task);
    this.baseScope.groups = groups;
    this.s.base.collect(ctx, this.baseScope, set);
    if (this.s.overlay !== null) {
      this.overlayScope.groups = groups;
      this.s.overlay.collect(ctx, this.overlayScope, set);
    }
    if (set.count === 0) return DEFAULTS[this.s.defaultAction];
    const best: RuleRef = {
      owner: set.bestOwner as CandidateOwner,
      source: set.bestSource,
      pos: set.bestPos,
    };
    const second: RuleRef | null =
      set.count > 1
        ? { owner: set.secondOwner as CandidateOwner, source: set.secondSource, pos: set.secondPos }
        : null;
    set.reset();
    return new EngineDecision(
      best.owner.blocksAt(best.source, best.pos) ? 'block' : 'allow',
      best,
      second,
      this.s.types,
    );
  }

  /** A new engine with these rules added or replaced and these ids removed; this one is untouched. */
  withChanges(changes: { upserts?: readonly Rule[]; deletes?: readonly number[] }): DecisionEngine {
    const overlayRules = new Map(this.s.overlayRules);
    const masked = new Set(this.s.masked ?? []);
    for (const id of changes.deletes ?? []) {
      overlayRules.delete(id);
      masked.add(id);
    }
    for (const rule of changes.upserts ?? []) {
      overlayRules.set(rule.id, rule);
      masked.add(rule.id);
    }
    return new DecisionEngine({
      ...this.s,
      overlayRules,
      overlay: overlayRules.size > 0 ? buildRuleIndex(overlayRules.values()) : null,
      masked: masked.size > 0 ? masked : null,
    });
  }

  /** Binds a task to exactly these groups; an empty list unbinds it. */
  withBinding(task: string, groups: readonly string[]): DecisionEngine {
    const bindings = new Map(this.s.bindings);
    if (groups.length === 0) bindings.delete(task);
    else bindings.set(task, new Set(groups));
    return new DecisionEngine({ ...this.s, bindings });
  }

  withTypes(types: Iterable<BlocklistType>): DecisionEngine {
    return new DecisionEngine({ ...this.s, types: new Map([...types].map((t) => [t.id, t])) });
  }

  withDefaultAction(defaultAction: Action): DecisionEngine {
    return new DecisionEngine({ ...this.s, defaultAction });
  }

  /** Folds the overlay into a freshly built base. Costs a full build: run it off the call path. */
  compacted(): DecisionEngine {
    return DecisionEngine.fromRules(this.rules(), this.options());
  }

  options(): Required<EngineOptions> {
    return {
      types: [...this.s.types.values()],
      bindings: [...this.bindings()],
      defaultAction: this.s.defaultAction,
    };
  }

  get base(): RuleIndex {
    return this.s.base;
  }

  /** Rules compiled into the base index (including ones a delta has since removed or replaced). */
  get baseRuleCount(): number {
    return this.s.base.ruleCount;
  }

  /** Rules changed by deltas since the base was built. */
  get overlaySize(): number {
    return this.s.overlayRules.size;
  }

  /** Base rule ids hidden by deltas. */
  get maskedCount(): number {
    return this.s.masked?.size ?? 0;
  }

  get defaultAction(): Action {
    return this.s.defaultAction;
  }

  /** Every live rule: the base minus masked ids, then the overlay. */
  *rules(): IterableIterator<MatchedRule> {
    const masked = this.s.masked;
    for (const rule of this.s.base.rules()) if (masked === null || !masked.has(rule.id)) yield rule;
    yield* this.s.overlayRules.values();
  }

  *bindings(): IterableIterator<[task: string, groups: string[]]> {
    for (const [task, groups] of this.s.bindings) yield [task, [...groups].sort()];
  }

  types(): IterableIterator<BlocklistType> {
    return this.s.types.values();
  }
}
