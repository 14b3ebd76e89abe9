import { type BlocklistType, NO_OUTCOME, type Outcome, outcomeOf } from '../domain/blocklist-type.js';
import type { CallContext } from '../domain/call-context.js';
import type { Decision, MatchedRule } from '../domain/decision.js';
import type { Action, Rule } from '../domain/rule.js';
import { CallKeys } from './call-keys.js';
import { type CandidateOwner, CandidateSet } from './candidates.js';
import { EngineDecision } from './engine-decision.js';
import { buildRuleIndex } from './index-builder.js';
import { type LookupScope, TaskGroups } from './lookup-scope.js';
import { Overlay } from './overlay.js';
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
  /** Rules changed since the base was built. */
  readonly overlay: Overlay;
  readonly bindings: ReadonlyMap<string, ReadonlySet<string>>;
  /** Blocklist types by id, each with the outcome it gives a block (built once, not per decision). */
  readonly types: ReadonlyMap<string, { readonly type: BlocklistType; readonly outcome: Outcome }>;
  readonly defaultAction: Action;
}

function defaultDecision(action: Action): Decision {
  return Object.freeze({
    action,
    ruleId: null,
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

function typeMap(types: Iterable<BlocklistType>): EngineState['types'] {
  return new Map([...types].map((type) => [type.id, { type, outcome: outcomeOf(type) }]));
}

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
  // Per-decision scratch, reused: a decision allocates nothing until a rule matches.
  private readonly candidates = new CandidateSet();
  private readonly keys = new CallKeys();
  private readonly groups: TaskGroups;
  private readonly baseScope: LookupScope;
  private readonly largeScope: LookupScope;
  private readonly smallScope: LookupScope;
  /** The answer when no rule matches, picked once. */
  private readonly noMatch: Decision;
  // The layers a decision reads, as own fields: one load each instead of a chain through the state.
  private readonly baseIndex: RuleIndex;
  private readonly largeIndex: RuleIndex | null;
  private readonly smallIndex: RuleIndex | null;

  private constructor(private readonly s: EngineState) {
    this.noMatch = DEFAULTS[s.defaultAction];
    this.baseIndex = s.base;
    this.largeIndex = s.overlay.largeIndex;
    this.smallIndex = s.overlay.smallIndex;
    this.groups = new TaskGroups(s.bindings);
    this.baseScope = { groups: this.groups, masked: s.overlay.baseMask };
    this.largeScope = { groups: this.groups, masked: s.overlay.largeMask };
    this.smallScope = { groups: this.groups, masked: null };
  }

  static fromRules(rules: Iterable<Rule>, options: EngineOptions = {}): DecisionEngine {
    return DecisionEngine.fromIndex(buildRuleIndex(rules), options);
  }

  static fromIndex(base: RuleIndex, options: EngineOptions = {}): DecisionEngine {
    return new DecisionEngine({
      base,
      overlay: Overlay.empty,
      bindings: bindingMap(options.bindings),
      types: typeMap(options.types ?? []),
      defaultAction: options.defaultAction ?? 'allow',
    });
  }

  // hot path
  decide(ctx: CallContext): Decision {
    const set = this.candidates;
    set.reset();
    const keys = this.keys;
    keys.prepare(ctx);
    this.baseIndex.collect(keys, ctx, this.baseScope, set);
    const large = this.largeIndex;
    if (large !== null) large.collect(keys, ctx, this.largeScope, set);
    const small = this.smallIndex;
    if (small !== null) small.collect(keys, ctx, this.smallScope, set);
    if (set.count === 0) return this.noMatch;
    const owner = set.bestOwner as CandidateOwner;
    const decision = new EngineDecision(
      owner.blocksAt(set.bestSource, set.bestPos) ? 'block' : 'allow',
      owner,
      set.bestSource,
      set.bestPos,
      set.secondOwner,
      set.secondSource,
      set.secondPos,
      this.s.types,
    );
    set.reset();
    return decision;
  }

  /** A new engine with these rules added or replaced and these ids removed; this one is untouched. */
  withChanges(changes: { upserts?: readonly Rule[]; deletes?: readonly number[] }): DecisionEngine {
    return new DecisionEngine({
      ...this.s,
      overlay: this.s.overlay.withChanges(changes.upserts ?? [], changes.deletes ?? []),
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
    return new DecisionEngine({ ...this.s, types: typeMap(types) });
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
      types: [...this.types()],
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
    return this.s.overlay.size;
  }

  /** Base rule ids hidden by deltas. */
  get maskedCount(): number {
    return this.s.overlay.maskedCount;
  }

  get defaultAction(): Action {
    return this.s.defaultAction;
  }

  /** Every live rule: the base minus masked ids, then the overlay. */
  *rules(): IterableIterator<MatchedRule> {
    const overlay = this.s.overlay;
    for (const rule of this.s.base.rules()) if (!overlay.isMaskedInBase(rule.id)) yield rule;
    yield* overlay.rules();
  }

  *bindings(): IterableIterator<[task: string, groups: string[]]> {
    for (const [task, groups] of this.s.bindings) yield [task, [...groups].sort()];
  }

  *types(): IterableIterator<BlocklistType> {
    for (const entry of this.s.types.values()) yield entry.type;
  }
}
