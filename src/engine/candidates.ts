import { comparePrecedence, type PrecedenceKey } from '../domain/precedence.js';

/** Where a matching rule sits in an index. */
export const SRC_CALLED_EXACT = 0;
export const SRC_CALLING_EXACT = 1;
export const SRC_GENERAL = 2;

export interface CandidateOwner {
  materializeAt(source: number, pos: number): import('../domain/decision.js').MatchedRule;
}

export interface Candidate {
  readonly owner: CandidateOwner;
  readonly source: number;
  /** Record offset (exact tables) or rule index (general). */
  readonly pos: number;
  readonly key: PrecedenceKey;
}

/** Keeps the best two matching rules seen, by the one precedence comparator. Reused across decisions. */
export class CandidateSet {
  best: Candidate | null = null;
  second: Candidate | null = null;

  reset(): void {
    this.best = null;
    this.second = null;
  }

  offer(c: Candidate): void {
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
