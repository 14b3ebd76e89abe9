import type { MatchedRule } from '../domain/decision.js';
import { comparePrecedence, type PrecedenceKey } from '../domain/precedence.js';

/** Where a matching rule sits in an index. */
export const SRC_CALLED_EXACT = 0;
export const SRC_CALLING_EXACT = 1;
export const SRC_GENERAL = 2;

/** An index that can describe one of its rules, given where it sits. */
export interface CandidateOwner {
  keyAt(source: number, pos: number): PrecedenceKey;
  blocksAt(source: number, pos: number): boolean;
  materializeAt(source: number, pos: number): MatchedRule;
}

/** A matching rule, by reference; its precedence key is computed only when it must be compared. */
export class Candidate {
  private keyCache: PrecedenceKey | null = null;

  constructor(
    readonly owner: CandidateOwner,
    readonly source: number,
    /** Record offset (exact tables) or rule index (general). */
    readonly pos: number,
  ) {}

  get key(): PrecedenceKey {
    if (this.keyCache === null) this.keyCache = this.owner.keyAt(this.source, this.pos);
    return this.keyCache;
  }

  get blocks(): boolean {
    return this.owner.blocksAt(this.source, this.pos);
  }

  rule(): MatchedRule {
    return this.owner.materializeAt(this.source, this.pos);
  }
}

/**
 * Keeps the best two matching rules seen, by the one precedence comparator. Reused across
 * decisions; a call that matches nothing allocates nothing, one that matches one rule allocates
 * one small object and computes no key.
 */
export class CandidateSet {
  best: Candidate | null = null;
  second: Candidate | null = null;

  reset(): void {
    this.best = null;
    this.second = null;
  }

  offer(owner: CandidateOwner, source: number, pos: number): void {
    const c = new Candidate(owner, source, pos);
    if (this.best === null) {
      this.best = c;
    } else if (comparePrecedence(c.key, this.best.key) < 0) {
      this.second = this.best;
      this.best = c;
    } else if (this.second === null || comparePrecedence(c.key, this.second.key) < 0) {
      this.second = c;
    }
  }
}
