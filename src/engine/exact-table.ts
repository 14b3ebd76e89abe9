import { filterAdd, filterHas, filterWords } from './key-filter.js';
import { HASH_BITS, hashKey } from './number-key.js';

/**
 * The compact store for the bulk of a tenant's rules: an exact number on one side, nothing on the
 * other, no scope. Records are 5 x u32 (20 bytes) in one typed array, grouped by hash bucket
 * (counting sort, about 4 records a bucket), so a lookup is one directory read and a short scan of
 * adjacent memory. What a list shares (direction, action, group, type, expiry) is stored once in a
 * small attribute table and a record holds its index: a list of ten million numbers has a handful of
 * distinct attribute sets. Records with the same number are ordered by precedence at build time, so
 * the first record that matches a call is the best of its number.
 */
export const STRIDE = 5;
export const F_HI = 0;
export const F_LO = 1;
export const F_ID = 2;
/** Index of the record's attribute set in `attrs`. */
export const F_ATTR = 3;
export const F_UPDATED = 4;

/** Attribute sets: 2 x u32 each, meta then expiry. */
export const ATTR_STRIDE = 2;
/** bits 0-1 direction (1 inbound, 2 outbound, 3 both), bit 2 block, bits 3-16 group ref, bits 17-30 type ref. */
export const A_META = 0;
/** Expiry in epoch seconds, 0 = never. */
export const A_EXPIRES = 1;

export const MAX_COMPACT_REF = (1 << 14) - 1;

export function packMeta(dirBits: number, block: boolean, groupRef: number, typeRef: number): number {
  return (dirBits | (block ? 4 : 0) | (groupRef << 3) | (typeRef << 17)) >>> 0;
}
export const metaDirBits = (meta: number): number => meta & 3;
export const metaBlock = (meta: number): boolean => (meta & 4) !== 0;
export const metaGroupRef = (meta: number): number => (meta >>> 3) & MAX_COMPACT_REF;
export const metaTypeRef = (meta: number): number => (meta >>> 17) & MAX_COMPACT_REF;

/** Orders two records of one number: task group first, then block, newer, lower id. */
function precedes(rec: Uint32Array, attrs: Uint32Array, a: number, b: number): boolean {
  const ma = attrs[rec[a + F_ATTR] * ATTR_STRIDE + A_META];
  const mb = attrs[rec[b + F_ATTR] * ATTR_STRIDE + A_META];
  const ga = metaGroupRef(ma) !== 0 ? 1 : 0;
  const gb = metaGroupRef(mb) !== 0 ? 1 : 0;
  if (ga !== gb) return ga > gb;
  const ba = ma & 4;
  const bb = mb & 4;
  if (ba !== bb) return ba > bb;
  if (rec[a + F_UPDATED] !== rec[b + F_UPDATED]) return rec[a + F_UPDATED] > rec[b + F_UPDATED];
  return rec[a + F_ID] < rec[b + F_ID];
}

function before(rec: Uint32Array, attrs: Uint32Array, a: number, b: number): boolean {
  if (rec[a + F_HI] !== rec[b + F_HI]) return rec[a + F_HI] < rec[b + F_HI];
  if (rec[a + F_LO] !== rec[b + F_LO]) return rec[a + F_LO] < rec[b + F_LO];
  return precedes(rec, attrs, a, b);
}

/** Interns (meta, expiry) pairs; consecutive rules of one list usually repeat the last pair. */
class AttrInterner {
  private values: number[] = [];
  private readonly refs = new Map<number, Map<number, number>>();
  private lastMeta = -1;
  private lastExpires = -1;
  private lastRef = 0;

  ref(meta: number, expiresSec: number): number {
    if (meta === this.lastMeta && expiresSec === this.lastExpires) return this.lastRef;
    let byExpiry = this.refs.get(meta);
    if (byExpiry === undefined) {
      byExpiry = new Map();
      this.refs.set(meta, byExpiry);
    }
    let r = byExpiry.get(expiresSec);
    if (r === undefined) {
      r = this.values.length / ATTR_STRIDE;
      this.values.push(meta, expiresSec);
      byExpiry.set(expiresSec, r);
    }
    this.lastMeta = meta;
    this.lastExpires = expiresSec;
    this.lastRef = r;
    return r;
  }

  table(): Uint32Array {
    return Uint32Array.from(this.values);
  }
}

export class ExactTableBuilder {
  private staging = new Uint32Array(STRIDE * 1024);
  private count = 0;
  private readonly attrs = new AttrInterner();

  add(hi: number, lo: number, id: number, meta: number, expiresSec: number, updatedSec: number): void {
    if ((this.count + 1) * STRIDE > this.staging.length) {
      const grown = new Uint32Array(this.staging.length * 2);
      grown.set(this.staging);
      this.staging = grown;
    }
    const o = this.count * STRIDE;
    const s = this.staging;
    s[o + F_HI] = hi;
    s[o + F_LO] = lo;
    s[o + F_ID] = id;
    s[o + F_ATTR] = this.attrs.ref(meta, expiresSec);
    s[o + F_UPDATED] = updatedSec;
    this.count++;
  }

  build(): ExactTable {
    const n = this.count;
    const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, n / 4))));
    const buckets = 1 << bits;
    const shift = HASH_BITS - bits;
    const staging = this.staging;
    const attrs = this.attrs.table();
    const dir = new Uint32Array(buckets + 1);
    const bucketOf = new Uint32Array(n);
    const filter = new Uint32Array(filterWords(n));
    for (let i = 0; i < n; i++) {
      const o = i * STRIDE;
      const h = hashKey(staging[o + F_HI], staging[o + F_LO]);
      filterAdd(filter, h);
      const b = h >>> shift;
      bucketOf[i] = b;
      dir[b + 1]++;
    }
    for (let b = 0; b < buckets; b++) dir[b + 1] += dir[b];
    const cursor = dir.slice(0, buckets);
    const rec = new Uint32Array(n * STRIDE);
    for (let i = 0; i < n; i++) {
      const to = cursor[bucketOf[i]]++ * STRIDE;
      rec.set(staging.subarray(i * STRIDE, i * STRIDE + STRIDE), to);
    }
    // Insertion sort inside each (small) bucket: by number, then precedence.
    for (let b = 0; b < buckets; b++) {
      const start = dir[b];
      const end = dir[b + 1];
      for (let i = start + 1; i < end; i++) {
        for (let j = i; j > start && before(rec, attrs, j * STRIDE, (j - 1) * STRIDE); j--)
          swap(rec, j * STRIDE, (j - 1) * STRIDE);
      }
    }
    this.staging = new Uint32Array(0);
    this.count = 0;
    return new ExactTable(dir, rec, filter, bits, attrs);
  }
}

function swap(rec: Uint32Array, a: number, b: number): void {
  for (let k = 0; k < STRIDE; k++) {
    const t = rec[a + k];
    rec[a + k] = rec[b + k];
    rec[b + k] = t;
  }
}

export class ExactTable {
  readonly shift: number;
  /**
   * The direction bits of all records together (1 inbound, 2 outbound). Lists are usually one
   * direction (outbound do-not-call lists on the called side, inbound spam lists on the calling
   * side), so most calls skip one of the two tables without reading its filter.
   */
  readonly directions: number;

  constructor(
    readonly dir: Uint32Array,
    readonly rec: Uint32Array,
    readonly filter: Uint32Array,
    readonly bits: number,
    /** The attribute sets records point at (ATTR_STRIDE words each). */
    readonly attrs: Uint32Array,
  ) {
    this.shift = HASH_BITS - bits;
    // The attribute sets are few: their directions cost nothing to gather, even for a huge table.
    let directions = 0;
    if (rec.length > 0) for (let a = A_META; a < attrs.length; a += ATTR_STRIDE) directions |= attrs[a] & 3;
    this.directions = directions;
  }

  get size(): number {
    return this.rec.length / STRIDE;
  }

  get attrCount(): number {
    return this.attrs.length / ATTR_STRIDE;
  }

  /**
   * Whether the filter lets the key through (key[2] is its hash, see call-keys.ts): false for most
   * numbers that no record has. The hash is read from its array, never passed as a number.
   */
  // hot path
  mayHave(key: Uint32Array): boolean {
    return filterHas(this.filter, key[2]);
  }

  /** Record offset of the first record of the key's bucket; the bucket ends at bucketEnd(). */
  bucketStart(key: Uint32Array): number {
    return this.dir[key[2] >>> this.shift] * STRIDE;
  }

  bucketEnd(key: Uint32Array): number {
    return this.dir[(key[2] >>> this.shift) + 1] * STRIDE;
  }

  /** Sorted-order check used by the snapshot decoder and tests. */
  isWellFormed(): boolean {
    const n = this.size;
    const { dir, rec, attrs } = this;
    if (rec.length % STRIDE !== 0 || attrs.length % ATTR_STRIDE !== 0) return false;
    if (dir.length !== (1 << this.bits) + 1 || dir[0] !== 0 || dir[dir.length - 1] !== n) return false;
    if (this.filter.length !== filterWords(n)) return false;
    const attrCount = this.attrCount;
    for (let o = 0; o < rec.length; o += STRIDE) {
      if (rec[o + F_ATTR] >= attrCount) return false;
      if (!filterHas(this.filter, hashKey(rec[o + F_HI], rec[o + F_LO]))) return false;
    }
    for (let b = 0; b + 1 < dir.length; b++) {
      if (dir[b] > dir[b + 1]) return false;
      for (let i = dir[b] + 1; i < dir[b + 1]; i++)
        if (before(rec, attrs, i * STRIDE, (i - 1) * STRIDE)) return false;
    }
    return true;
  }
}
