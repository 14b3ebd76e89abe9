import { filterAdd, filterHas, filterWords } from './key-filter.js';
import { HASH_BITS, hashKey, MAX_KEY_CHARS, packNumber } from './number-key.js';

/**
 * The general rules indexed on one side by the fixed prefix of their pattern. A call number is
 * looked up once per prefix length that exists (a bit mask), each as a masked packed key: the
 * probes are independent memory reads, unlike a trie walk's chain of dependent ones, and the Bloom
 * filter turns most of them away after one read.
 *
 * Records are 4 x u32: key hi, key lo, first rule, one past the last rule (into `ruleIds`).
 */
export const P_STRIDE = 4;

export const HI_MASK = new Uint32Array(MAX_KEY_CHARS + 1);
export const LO_MASK = new Uint32Array(MAX_KEY_CHARS + 1);
for (let l = 0; l <= MAX_KEY_CHARS; l++) {
  HI_MASK[l] = l >= 8 ? 0xffffffff : l === 0 ? 0 : (0xffffffff << (32 - 4 * l)) >>> 0;
  LO_MASK[l] = l <= 8 ? 0 : l >= 16 ? 0xffffffff : (0xffffffff << (32 - 4 * (l - 8))) >>> 0;
}

/**
 * The bit of a stem (a key masked to the stem's characters) in a stems bitmap of 2^(32 - shift)
 * bits: the two words folded with one multiply, then one multiply-xorshift round, against the key
 * hash's three rounds. The bitmap only has to spread the stems (a single multiply let ~30% more
 * random numbers through on the bench's rules); the probes behind it compare whole keys.
 */
// hot path
export function stemBit(hi: number, lo: number, shift: number): number {
  const h = Math.imul(hi ^ Math.imul(lo, 0x85ebca6b), 0x9e3779b1);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> shift;
}

/** The shift that makes stemBit() a bit index into a bitmap of `words` words (a power of two). */
function stemShiftFor(words: number): number {
  return 32 - Math.log2(words * 32);
}

export class PrefixTable {
  private readonly shift: number;

  constructor(
    readonly dir: Uint32Array,
    readonly rec: Uint32Array,
    readonly filter: Uint32Array,
    readonly bits: number,
    /** Bit l set when some prefix has exactly l characters (1..16). */
    readonly lengthMask: number,
    readonly ruleIds: Uint32Array,
    /** Rules whose prefix is empty (X ranges such as _XXX): checked for every number. */
    readonly rootRules: Uint32Array,
    /** Rules whose prefix is longer than a packed key holds: checked by their full prefix. */
    readonly longRules: Uint32Array,
    /**
     * A bitmap over the first `stemLength` characters (the shortest prefix length) of every prefix:
     * a number whose stem is not in it cannot start with any prefix, and is turned away with one read
     * of a table small enough to stay in cache.
     */
    readonly stems: Uint32Array,
  ) {
    this.shift = HASH_BITS - bits;
    this.stemLength = lengthMask === 0 ? 0 : 31 - Math.clz32(lengthMask & -lengthMask);
    // As int32 (the same bits): a mask above 2^31 would be a heap number, a load and a conversion.
    this.stemHiMask = HI_MASK[this.stemLength] | 0;
    this.stemLoMask = LO_MASK[this.stemLength] | 0;
    this.stemShift = stemShiftFor(stems.length);
    this.checksEveryNumber = rootRules.length + longRules.length > 0;
  }

  /** Whether some rules are checked for every number (root or long rules). */
  readonly checksEveryNumber: boolean;

  readonly stemLength: number;
  private readonly stemHiMask: number;
  private readonly stemLoMask: number;
  private readonly stemShift: number;

  /**
   * Whether some keyed prefix may be a prefix of the number packed in key[0], key[1] (length
   * characters). The key is read from its array, never passed as numbers (see call-keys.ts).
   */
  // hot path
  mayMatch(key: Uint32Array, length: number): boolean {
    const l = this.stemLength;
    if (l === 0 || length < l) return false;
    const bit = stemBit(key[0] & this.stemHiMask, key[1] & this.stemLoMask, this.stemShift);
    return (this.stems[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  get isEmpty(): boolean {
    return this.ruleIds.length === 0 && this.rootRules.length === 0 && this.longRules.length === 0;
  }

  /** Offset of the record for the first `l` characters of the key in key[0], key[1], or -1. */
  // hot path
  find(key: Uint32Array, l: number): number {
    const hi = (key[0] & HI_MASK[l]) >>> 0;
    const lo = (key[1] & LO_MASK[l]) >>> 0;
    const h = hashKey(hi, lo);
    if (!filterHas(this.filter, h)) return -1;
    const b = h >>> this.shift;
    const rec = this.rec;
    const end = this.dir[b + 1] * P_STRIDE;
    for (let o = this.dir[b] * P_STRIDE; o < end; o += P_STRIDE)
      if (rec[o] === hi && rec[o + 1] === lo) return o;
    return -1;
  }

  isWellFormed(ruleCount: number): boolean {
    const n = this.rec.length / P_STRIDE;
    const { dir, rec } = this;
    if (
      !Number.isInteger(n) ||
      dir.length !== (1 << this.bits) + 1 ||
      dir[0] !== 0 ||
      dir[dir.length - 1] !== n
    ) {
      return false;
    }
    if (this.filter.length !== filterWords(n)) return false;
    for (let b = 0; b + 1 < dir.length; b++) if (dir[b] > dir[b + 1]) return false;
    for (let o = 0; o < rec.length; o += P_STRIDE) {
      if (rec[o + 2] > rec[o + 3] || rec[o + 3] > this.ruleIds.length) return false;
      if (!filterHas(this.filter, hashKey(rec[o], rec[o + 1]))) return false;
    }
    const words = this.stems.length;
    if (words < 2048 || (words & (words - 1)) !== 0) return false;
    for (let o = 0; o < rec.length; o += P_STRIDE) {
      if (!this.mayMatch(rec.subarray(o, o + 2), MAX_KEY_CHARS)) return false;
    }
    for (const list of [this.ruleIds, this.rootRules, this.longRules]) {
      for (let i = 0; i < list.length; i++) if (list[i] >= ruleCount) return false;
    }
    return true;
  }
}

export class PrefixTableBuilder {
  private readonly byPrefix = new Map<string, number[]>();
  private readonly root: number[] = [];
  private readonly long: number[] = [];

  add(prefix: string, ruleIndex: number): void {
    if (prefix.length === 0) this.root.push(ruleIndex);
    else if (prefix.length > MAX_KEY_CHARS) this.long.push(ruleIndex);
    else {
      const list = this.byPrefix.get(prefix);
      if (list) list.push(ruleIndex);
      else this.byPrefix.set(prefix, [ruleIndex]);
    }
  }

  build(): PrefixTable {
    const n = this.byPrefix.size;
    const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, n / 2))));
    const shift = HASH_BITS - bits;
    const dir = new Uint32Array((1 << bits) + 1);
    const filter = new Uint32Array(filterWords(n));
    const entries: Array<{ hi: number; lo: number; bucket: number; rules: number[] }> = [];
    const key = new Uint32Array(2);
    let lengthMask = 0;
    for (const [prefix, rules] of this.byPrefix) {
      packNumber(prefix, key);
      const h = hashKey(key[0], key[1]);
      filterAdd(filter, h);
      entries.push({ hi: key[0], lo: key[1], bucket: h >>> shift, rules });
      dir[(h >>> shift) + 1]++;
      lengthMask |= 1 << prefix.length;
    }
    for (let b = 0; b + 1 < dir.length; b++) dir[b + 1] += dir[b];
    entries.sort((a, b) => a.bucket - b.bucket);
    const rec = new Uint32Array(n * P_STRIDE);
    const ruleIds = new Uint32Array(entries.reduce((sum, e) => sum + e.rules.length, 0));
    let next = 0;
    entries.forEach((e, i) => {
      rec.set([e.hi, e.lo, next, next + e.rules.length], i * P_STRIDE);
      ruleIds.set(e.rules, next);
      next += e.rules.length;
    });
    const stemLength = lengthMask === 0 ? 0 : 31 - Math.clz32(lengthMask & -lengthMask);
    const stems = new Uint32Array(Math.max(2048, 2 ** Math.ceil(Math.log2(Math.max(1, n) * 16)) / 32));
    const stemShift = stemShiftFor(stems.length);
    for (const e of entries) {
      const bit = stemBit(e.hi & HI_MASK[stemLength], e.lo & LO_MASK[stemLength], stemShift);
      stems[bit >>> 5] |= 1 << (bit & 31);
    }
    return new PrefixTable(
      dir,
      rec,
      filter,
      bits,
      lengthMask,
      ruleIds,
      Uint32Array.from(this.root),
      Uint32Array.from(this.long),
      stems,
    );
  }
}
