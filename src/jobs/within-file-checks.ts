import { conditionsKey, type Rule } from '../domain/rule.js';
import { RuleInputError } from '../domain/rule-input.js';

/** FNV-1a of a string's UTF-16 code units. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * The checks across the rows of one rules file (`callguard check --rules`): an id used twice, and a
 * second rule with identical conditions (conditionsKey). The first row wins; a refused row claims
 * neither its id nor its conditions.
 *
 * Built for a million rows: ids that rise through the file (the usual case: implied ids, or an
 * export) sit in a growing sorted array instead of a Map, and rules are looked up by their number
 * text (which the rule already holds) with their full conditions compared only when two rules share
 * a number, instead of building and hashing a conditions key for every row.
 */
export class WithinFileChecks {
  /** Ids in rising order with their lines, while the file's ids rise. */
  private sortedIds = new Uint32Array(1024);
  private sortedLines = new Uint32Array(1024);
  private sortedCount = 0;
  /** Ids that came after a higher one. */
  private readonly otherIds = new Map<number, number>();

  /** The accepted rules, their lines, and per rule the previous accepted rule with the same number. */
  private readonly rules: Rule[] = [];
  private lines = new Uint32Array(1 << 15);
  private previous = new Int32Array(1 << 15);
  /**
   * Number text (called, else calling) -> the last accepted rule with it, as an open-addressing table
   * of pairs [text hash, rule index + 1 (0: empty)]: a Map of a million strings costs several times
   * more, and with the hash beside the index a probe reads one place in memory, not two.
   */
  private slots = new Int32Array(2 << 16);

  /** Throws RuleInputError when the rule's id or conditions were taken by an earlier row; else records it. */
  accept(rule: Rule, line: number): void {
    const id = rule.id;
    const idLine = this.idLine(id);
    if (idLine !== undefined) throw new RuleInputError('id', `id ${id} is already used on line ${idLine}`);
    const number = rule.called ?? rule.calling ?? '';
    const hash = hashOf(number);
    const slot = this.slotOf(number, hash);
    const last = this.slots[slot + 1]! - 1;
    if (last >= 0) {
      const key = conditionsKey(rule);
      for (let i = last; i !== -1; i = this.previous[i]!) {
        if (conditionsKey(this.rules[i]!) === key) {
          throw new RuleInputError(
            'called',
            `duplicate of the rule on line ${this.lines[i]} (identical conditions); not loaded`,
          );
        }
      }
    }
    this.addId(id, line);
    const index = this.rules.length;
    if (index === this.lines.length) {
      this.lines = doubled(this.lines);
      this.previous = doubled(this.previous);
    }
    this.rules.push(rule);
    this.lines[index] = line;
    this.previous[index] = last;
    this.slots[slot] = hash;
    this.slots[slot + 1] = index + 1;
    if (last < 0 && (index + 1) * 4 > this.slots.length) this.grow();
  }

  /** The slot (index of its pair) of a number text: where it is, or the empty slot where it goes. */
  private slotOf(number: string, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    for (let s = (hash << 1) & mask; ; s = (s + 2) & mask) {
      const at = slots[s + 1]! - 1;
      if (at < 0) return s;
      if (slots[s] === hash) {
        const r = this.rules[at]!;
        if ((r.called ?? r.calling ?? '') === number) return s;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 2;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      const hash = old[i]!;
      let s = (hash << 1) & mask;
      while (slots[s + 1] !== 0) s = (s + 2) & mask;
      slots[s] = hash;
      slots[s + 1] = old[i + 1]!;
    }
    this.slots = slots;
  }

  private idLine(id: number): number | undefined {
    const n = this.sortedCount;
    if (n > 0 && id <= this.sortedIds[n - 1]!) {
      let lo = 0;
      let hi = n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = this.sortedIds[mid]!;
        if (v === id) return this.sortedLines[mid];
        if (v < id) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return this.otherIds.size === 0 ? undefined : this.otherIds.get(id);
  }

  private addId(id: number, line: number): void {
    const n = this.sortedCount;
    if (n > 0 && id < this.sortedIds[n - 1]!) {
      this.otherIds.set(id, line);
      return;
    }
    if (n === this.sortedIds.length) {
      this.sortedIds = doubled(this.sortedIds);
      this.sortedLines = doubled(this.sortedLines);
    }
    this.sortedIds[n] = id;
    this.sortedLines[n] = line;
    this.sortedCount = n + 1;
  }
}

/** A typed array of twice the length holding `a`'s values first (the tables grow by doubling). */
function doubled<T extends Uint32Array | Int32Array>(a: T): T {
  const grown = new (a.constructor as new (length: number) => T)(a.length * 2);
  grown.set(a);
  return grown;
}
