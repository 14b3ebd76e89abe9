import { type BlocklistType, NO_OUTCOME, type Outcome, outcomeOf } from '../domain/blocklist-type.js';
import type { Decision, MatchedRule } from '../domain/decision.js';
import type { Action } from '../domain/rule.js';
import { keyOf, type RuleRef } from './candidates.js';
import { explainDecision } from './explain.js';

/**
 * A decision whose rule objects and explanation are built only when read: the call path needs the
 * action (and for blocks the outcome); the API and the audit read the rest.
 */
export class EngineDecision implements Decision {
  private ruleCache: MatchedRule | undefined;
  private runnerUpCache: MatchedRule | null | undefined;
  private outcomeCache: Outcome | undefined;

  constructor(
    readonly action: Action,
    private readonly best: RuleRef,
    private readonly second: RuleRef | null,
    private readonly types: ReadonlyMap<string, BlocklistType>,
  ) {}

  get rule(): MatchedRule {
    if (this.ruleCache === undefined)
      this.ruleCache = this.best.owner.materializeAt(this.best.source, this.best.pos);
    return this.ruleCache;
  }

  get runnerUp(): MatchedRule | null {
    if (this.runnerUpCache === undefined) {
      const s = this.second;
      this.runnerUpCache = s === null ? null : s.owner.materializeAt(s.source, s.pos);
    }
    return this.runnerUpCache;
  }

  get outcome(): Outcome {
    if (this.outcomeCache === undefined) {
      const typeId = this.action === 'block' ? this.rule.typeId : undefined;
      const type = typeId === undefined ? undefined : this.types.get(typeId);
      this.outcomeCache = type ? outcomeOf(type) : NO_OUTCOME;
    }
    return this.outcomeCache;
  }

  get why(): string {
    return explainDecision(
      this.rule,
      keyOf(this.best),
      this.runnerUp,
      this.second ? keyOf(this.second) : null,
    );
  }

  toJSON(): Decision {
    return {
      action: this.action,
      rule: this.rule,
      runnerUp: this.runnerUp,
      outcome: this.outcome,
      why: this.why,
    };
  }
}
