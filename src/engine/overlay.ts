import type { MatchedRule } from '../domain/decision.js';
import type { Rule } from '../domain/rule.js';
import { buildRuleIndex } from './index-builder.js';
import type { IdMask } from './lookup-scope.js';
import type { RuleIndex } from './rule-index.js';

/** Changes a small layer takes before it is merged into the large one. */
export const SMALL_LAYER_LIMIT = 256;

/** Both masks at once, without copying either. */
class UnionMask implements IdMask {
  constructor(
    private readonly a: ReadonlySet<number>,
    private readonly b: ReadonlySet<number>,
  ) {}
  has(id: number): boolean {
    return this.a.has(id) || this.b.has(id);
  }
}

interface Layer {
  readonly rules: ReadonlyMap<number, Rule>;
  readonly index: RuleIndex | null;
  /** Ids upserted or deleted since the layer below was built: they hide that layer's rules. */
  readonly changed: ReadonlySet<number>;
}

const EMPTY: Layer = { rules: new Map(), index: null, changed: new Set() };

function layer(rules: Map<number, Rule>, changed: Set<number>): Layer {
  return { rules, changed, index: rules.size > 0 ? buildRuleIndex(rules.values()) : null };
}

/**
 * The rules changed since the base index was built, in two layers like a tiny LSM tree: a delta
 * rebuilds only the small layer (at most SMALL_LAYER_LIMIT changes), and every SMALL_LAYER_LIMIT
 * changes the small layer is merged into the large one. A change costs O(small layer), plus an
 * amortised share of one large rebuild, instead of a rebuild of everything changed so far.
 * Immutable, like the engine that holds it.
 */
export class Overlay {
  static readonly empty = new Overlay(EMPTY, EMPTY);

  /** Hides base rules changed in either layer; null when nothing changed. */
  readonly baseMask: IdMask | null;
  /** Hides large-layer rules changed again in the small layer; null when the small layer is empty. */
  readonly largeMask: IdMask | null;

  private constructor(
    readonly large: Layer,
    readonly small: Layer,
  ) {
    const l = large.changed.size > 0;
    const s = small.changed.size > 0;
    this.baseMask =
      l && s ? new UnionMask(large.changed, small.changed) : l ? large.changed : s ? small.changed : null;
    this.largeMask = s ? small.changed : null;
  }

  get largeIndex(): RuleIndex | null {
    return this.large.index;
  }

  get smallIndex(): RuleIndex | null {
    return this.small.index;
  }

  withChanges(upserts: readonly Rule[], deletes: readonly number[]): Overlay {
    const rules = new Map(this.small.rules);
    const changed = new Set(this.small.changed);
    for (const id of deletes) {
      rules.delete(id);
      changed.add(id);
    }
    for (const rule of upserts) {
      rules.set(rule.id, rule);
      changed.add(rule.id);
    }
    if (changed.size <= SMALL_LAYER_LIMIT) return new Overlay(this.large, layer(rules, changed));
    const largeRules = new Map(this.large.rules);
    for (const id of changed) largeRules.delete(id);
    for (const [id, rule] of rules) largeRules.set(id, rule);
    const largeChanged = new Set([...this.large.changed, ...changed]);
    return new Overlay(layer(largeRules, largeChanged), EMPTY);
  }

  /** Live rules of both layers (the small layer wins). */
  *rules(): IterableIterator<MatchedRule> {
    for (const [id, rule] of this.large.rules) if (!this.small.changed.has(id)) yield rule;
    yield* this.small.rules.values();
  }

  /** Rules held by the layers. */
  get size(): number {
    let n = this.small.rules.size;
    for (const id of this.large.rules.keys()) if (!this.small.changed.has(id)) n++;
    return n;
  }

  /** Distinct ids that hide base rules. */
  get maskedCount(): number {
    let n = this.large.changed.size;
    for (const id of this.small.changed) if (!this.large.changed.has(id)) n++;
    return n;
  }

  isMaskedInBase(id: number): boolean {
    return this.baseMask?.has(id) === true;
  }
}
