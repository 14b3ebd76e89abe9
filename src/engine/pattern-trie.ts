import { symbolOf } from './number-key.js';

/**
 * A trie over the fixed prefixes of the patterns on one side, with the general rules indexed at the
 * node of their prefix. Children are a flat Int32Array of 13 slots a node (symbols 1..12; 0 = none,
 * the root is never a child), so a walk is a loop over integer indices.
 */
export const FANOUT = 13;

export class PatternTrie {
  constructor(
    /** children[node * FANOUT + symbol] = child node, 0 = none. */
    readonly children: Int32Array,
    /** Rules at node n are ruleIds[ruleStart[n] .. ruleStart[n + 1]). */
    readonly ruleStart: Uint32Array,
    readonly ruleIds: Uint32Array,
  ) {}

  get nodeCount(): number {
    return this.ruleStart.length - 1;
  }

  get isEmpty(): boolean {
    return this.ruleIds.length === 0;
  }

  isWellFormed(ruleCount: number): boolean {
    const nodes = this.nodeCount;
    if (this.children.length !== nodes * FANOUT || this.ruleStart[0] !== 0) return false;
    if (this.ruleStart[nodes] !== this.ruleIds.length) return false;
    for (let i = 0; i < this.children.length; i++) {
      const c = this.children[i];
      if (c < 0 || c >= nodes || (c !== 0 && c <= Math.floor(i / FANOUT))) return false;
    }
    for (let n = 0; n < nodes; n++) if (this.ruleStart[n] > this.ruleStart[n + 1]) return false;
    for (let i = 0; i < this.ruleIds.length; i++) if (this.ruleIds[i] >= ruleCount) return false;
    return true;
  }
}

export class PatternTrieBuilder {
  private children = new Int32Array(FANOUT * 64);
  private nodes = 1;
  private readonly attached: Array<number[] | undefined> = [];

  /** Indexes rule `ruleIndex` under the fixed prefix `fixed`. */
  add(fixed: string, ruleIndex: number): void {
    let node = 0;
    for (let i = 0; i < fixed.length; i++) {
      const sym = symbolOf(fixed.charCodeAt(i));
      const slot = node * FANOUT + sym;
      let child = this.children[slot];
      if (child === 0) {
        child = this.nodes++;
        if (this.nodes * FANOUT > this.children.length) {
          const grown = new Int32Array(this.children.length * 2);
          grown.set(this.children);
          this.children = grown;
        }
        this.children[slot] = child;
      }
      node = child;
    }
    const list = this.attached[node];
    if (list) list.push(ruleIndex);
    else this.attached[node] = [ruleIndex];
  }

  build(): PatternTrie {
    const n = this.nodes;
    const ruleStart = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      ruleStart[i] = total;
      total += this.attached[i]?.length ?? 0;
    }
    ruleStart[n] = total;
    const ruleIds = new Uint32Array(total);
    for (let i = 0; i < n; i++) {
      const list = this.attached[i];
      if (list) ruleIds.set(list, ruleStart[i]);
    }
    return new PatternTrie(this.children.slice(0, n * FANOUT), ruleStart, ruleIds);
  }
}
