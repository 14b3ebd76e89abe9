import type { Outcome } from './blocklist-type.js';
import type { Action, Rule } from './rule.js';

/** The decision-relevant fields of a matched rule (OU and remarks live in the store, not the index). */
export type MatchedRule = Omit<Rule, 'ou' | 'remarks'>;

export interface Decision {
  readonly action: Action;
  /** The winning rule's id, without building the rule (what the call path needs); null as rule. */
  readonly ruleId: number | null;
  /** The winning rule; null when no rule matched and the tenant's default applied. */
  readonly rule: MatchedRule | null;
  /** The best matching rule the winner beat, if any. */
  readonly runnerUp: MatchedRule | null;
  readonly outcome: Outcome;
  /** One sentence: which rule won and why it beat the runner-up. */
  readonly why: string;
  /** Set when a contact policy of the call's task refused a call the rules allowed. */
  readonly policy?: PolicyVerdict;
}

/** Which contact policy refused the call, and why ("4th attempt today, cap 3"). */
export interface PolicyVerdict {
  readonly id: string;
  readonly name: string;
  readonly reason: string;
}
