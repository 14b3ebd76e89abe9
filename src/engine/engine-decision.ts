import { NO_OUTCOME, type Outcome } from '../domain/blocklist-type.js';
import type { Decision, MatchedRule } from '../domain/decision.js';
import type { Action } from '../domain/rule.js';
import { type CandidateOwner, keyOf } from './candidates.js';
import { explainDecision } from './explain.js';

/**
 * A decision whose rule objects and explanation are built only when read: the call path needs the
 * action, the rule id and, for blocks, the outcome, all read straight from the index; the API reads
 * the rest.
 */
export class EngineDecision implements Decision {
  private ruleCache: MatchedRule | undefined;
  private runnerUpCache: MatchedRule | null | undefined;

  constructor(
    readonly action: Action,
    // The winner's and the runner-up's places, kept as fields rather than RuleRefs: a match allocates
    // this object and nothing else.
    private readonly owner: CandidateOwner,
    private readonly source: number,
    private readonly pos: number,
    /** null when only one rule matched. */
    private readonly secondOwner: CandidateOwner | null,
    private readonly secondSource: number,
    private readonly secondPos: number,
    /** Outcome of each blocklist type, built once per engine. */
    private readonly types: ReadonlyMap<string, { readonly outcome: Outcome }>,
  ) {}

  get ruleId(): number {
    return this.owner.idAt(this.source, this.pos);
  }

  get rule(): MatchedRule {
    if (this.ruleCache === undefined) this.ruleCache = this.owner.materializeAt(this.source, this.pos);
    return this.ruleCache;
  }

  get runnerUp(): MatchedRule | null {
    if (this.runnerUpCache === undefined) {
      const s = this.secondOwner;
      this.runnerUpCache = s === null ? null : s.materializeAt(this.secondSource, this.secondPos);
    }
    return this.runnerUpCache;
  }

  get outcome(): Outcome {
    if (this.action !== 'block') return NO_OUTCOME;
    const typeId = this.owner.typeIdAt(this.source, this.pos);
    return (typeId === undefined ? undefined : this.types.get(typeId)?.outcome) ?? NO_OUTCOME;
  }

  get why(): string {
    return explainDecision(
      this.rule,
      keyOf({ owner: this.owner, source: this.source, pos: this.pos }),
      this.runnerUp,
      this.secondOwner === null
        ? null
        : keyOf({ owner: this.secondOwner, source: this.secondSource, pos: this.secondPos }),
    );
  }

  toJSON(): Decision {
    return {
      action: this.action,
      ruleId: this.ruleId,
      rule: this.rule,
      runnerUp: this.runnerUp,
      outcome: this.outcome,
      why: this.why,
    };
  }
}
