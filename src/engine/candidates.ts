import type { MatchedRule } from '../domain/decision.js';
import { comparePrecedence, type PrecedenceKey } from '../domain/precedence.js';

/** Where a matching rule sits in an index. */
export const SRC_CALLED_EXACT = 0;
export const SRC_CALLING_EXACT = 1;
export const SRC_GENERAL = 2;

export type MutablePrecedenceKey = { -readonly [K in keyof PrecedenceKey]: number };

export const newPrecedenceKey = (): MutablePrecedenceKey => ({
  called: 0,
  calling: 0,
  scopeDepth: 0,
  scopeCount: 0,
  groupBound: 0,
  country: 0,
  block: 0,
  updatedAt: 0,
  id: 0,
});

/** An index that can describe one of its rules, given where it sits. */
export interface CandidateOwner {
  /** Writes the rule's precedence key into `out` (no allocation on the call path). */
  keyInto(source: number, pos: number, out: MutablePrecedenceKey): void;
  blocksAt(source: number, pos: number): boolean;
  idAt(source: number, pos: number): number;
  typeIdAt(source: number, pos: number): string | undefined;
  materializeAt(source: number, pos: number): MatchedRule;
}

/** A matching rule by reference: which index, which table, where. */
export interface RuleRef {
  readonly owner: CandidateOwner;
  readonly source: number;
  readonly pos: number;
}

export function keyOf(ref: RuleRef): PrecedenceKey {
  const key = newPrecedenceKey();
  ref.owner.keyInto(ref.source, ref.pos, key);
  return key;
}

/**
 * Keeps the best two matching rules seen, by the one precedence comparator. Reused across
 * decisions and allocation-free: keys live in three recycled objects and are computed only when two
 * candidates must be compared.
 */
export class CandidateSet {
  count = 0;
  bestOwner: CandidateOwner | null = null;
  bestSource = 0;
  bestPos = 0;
  secondOwner: CandidateOwner | null = null;
  secondSource = 0;
  secondPos = 0;
  private bestKey = newPrecedenceKey();
  private secondKey = newPrecedenceKey();
  private spareKey = newPrecedenceKey();
  private bestKeyed = false;

  reset(): void {
    this.count = 0;
    this.bestOwner = null;
    this.secondOwner = null;
  }

  offer(owner: CandidateOwner, source: number, pos: number): void {
    if (this.count === 0) {
      this.bestOwner = owner;
      this.bestSource = source;
      this.bestPos = pos;
      this.bestKeyed = false;
      this.count = 1;
      return;
    }
    if (!this.bestKeyed) {
      (this.bestOwner as CandidateOwner).keyInto(this.bestSource, this.bestPos, this.bestKey);
      this.bestKeyed = true;
    }
    const key = this.spareKey;
    owner.keyInto(source, pos, key);
    if (comparePrecedence(key, this.bestKey) < 0) {
      this.secondOwner = this.bestOwner;
      this.secondSource = this.bestSource;
      this.secondPos = this.bestPos;
      this.spareKey = this.secondKey;
      this.secondKey = this.bestKey;
      this.bestKey = key;
      this.bestOwner = owner;
      this.bestSource = source;
      this.bestPos = pos;
    } else if (this.count === 1 || comparePrecedence(key, this.secondKey) < 0) {
      this.spareKey = this.secondKey;
      this.secondKey = key;
      this.secondOwner = owner;
      this.secondSource = source;
      this.secondPos = pos;
    }
    this.count = 2;
  }
}
