import { blockOf, filterAdd, filterHas, filterWords } from './key-filter.js';
import { hashKey } from './number-key.js';

/**
 * The compact store for the bulk of a tenant's rules: an exact number on one side, nothing on the
 * other, no scope. Records are 6 x u32 (24 bytes) in one typed array, grouped by hash bucket
 * (counting sort, about 4 records a bucket), so a lookup is one directory read and a short scan of
 * adjacent memory. Records with the same number are ordered by precedence at build time, so the
 * first record that matches a call is the best of its number.
 */
export const STRIDE = 6;
export const F_HI = 0;
export const F_LO = 1;
export const F_ID = 2;
/** bits 0-1 direction (1 inbound, 2 outbound, 3 both), bit 2 block, bits 3-16 group ref, bits 17-30 type ref. */
export const F_META = 3;
/** Expiry in epoch seconds, 0 = never. */
export const F_EXPIRES = 4;
export const F_UPDATED = 5;

export const MAX_COMPACT_REF = (1 << 14) - 1;

export function packMeta(dirBits: number, block: boolean, groupRef: number, typeRef: number): number {
  return (dirBits | (block ? 4 : 0) | (groupRef << 3) | (typeRef << 17)) >>> 0;
}
export const metaDirBits = (meta: number): number => meta & 3;
export const metaBlock = (meta: number): boolean => (meta & 4) !== 0;
export const metaGroupRef = (meta: number): number => (meta >>> 3) & MAX_COMPACT_REF;
export const metaTypeRef = (meta: number): number => (meta >>> 17) & MAX_COMPACT_REF;

/** Orders two records of one number: task group first, then block, newer, lower id. */
function precedes(rec: Uint32Array, a: number, b: number): boolean {
  const ga = metaGroupRef(rec[a + F_META]) !== 0 ? 1 : 0;
  const gb = metaGroupRef(rec[b + F_META]) !== 0 ? 1 : 0;
  if (ga !== gb) return ga > gb;
  const ba = rec[a + F_META] & 4;
  const bb = rec[b + F_META] & 4;
  if (ba !== bb) return ba > bb;
  if (rec[a + F_UPDATED] !== rec[b + F_UPDATED]) return rec[a + F_UPDATED] > rec[b + F_UPDATED];
  return rec[a + F_ID] < rec[b + F_ID];
}

function before(rec: Uint32Array, a: number, b: number): boolean {
  if (rec[a + F_HI] !== rec[b + F_HI]) return rec[a + F_HI] < rec[b + F_HI];
  if (rec[a + F_LO] !== rec[b + F_LO]) return rec[a + F_LO] < rec[b + F_LO];
  return precedes(rec, a, b);
}

export class ExactTableBuilder {
  private staging = new Uint32Array(STRIDE * 1024);
  private count = 0;

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
    s[o + F_META] = meta;
    s[o + F_EXPIRES] = expiresSec;
    s[o + F_UPDATED] = updatedSec;
    this.count++;
  }

  build(): ExactTable {
    const n = this.count;
    const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, n / 4))));
    const buckets = 1 << bits;
    const shift = 32 - bits;
    const staging = this.staging;
    const dir = new Uint32Array(buckets + 1);
    const bucketOf = new Uint32Array(n);
    const filter = new Uint32Array(filterWords(n));
    for (let i = 0; i < n; i++) {
      const o = i * STRIDE;
      const hi = staging[o + F_HI];
      const lo = staging[o + F_LO];
      const h = hashKey(hi, lo);
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
        for (let j = i; j > start && before(rec, j * STRIDE, (j - 1) * STRIDE); j--)
          swap(rec, j * STRIDE, (j - 1) * STRIDE);
      }
    }
    this.staging = new Uint32Array(0);
    this.count = 0;
    return new ExactTable(dir, rec, filter, bits);
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
  private readonly shift: number;
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
    /** The direction bits of the records, when known (a checked snapshot's header): no scan. */
    directions?: number,
  ) {
    this.shift = 32 - bits;
    if (directions === undefined) {
      directions = 0;
      for (let o = F_META; o < rec.length && directions !== 3; o += STRIDE) directions |= rec[o] & 3;
    }
    this.directions = directions;
  }

  get size(): number {
    return this.rec.length / STRIDE;
  }

  /**
   * Puts the record offsets of the bucket a key falls in into out[0] .. out[1]; false (and nothing to
   * scan) when the filter says no record has the key.
   */
  // hot path
  bucketRange(hi: number, lo: number, out: Uint32Array): boolean {
    return this.bucketRangeHashed(hashKey(hi, lo), out);
  }

  /** bucketRange with the key's hash already computed (see touch). */
  // hot path
  bucketRangeHashed(h: number, out: Uint32Array): boolean {
    if (!filterHas(this.filter, h)) return false;
    const b = h >>> this.shift;
    out[0] = this.dir[b] * STRIDE;
    out[1] = this.dir[b + 1] * STRIDE;
    return true;
  }

  /**
   * Reads the first filter word of a key's block and returns it. Called for both sides of a call
   * before either is tested, so the two cache misses of a large table overlap instead of queueing.
   */
  // hot path
  touch(h: number): number {
    return this.filter[blockOf(this.filter, h)];
  }

  /** Sorted-order check used by the snapshot decoder and tests. */
  isWellFormed(): boolean {
    const n = this.size;
    const { dir, rec } = this;
    if (dir.length !== (1 << this.bits) + 1 || dir[0] !== 0 || dir[dir.length - 1] !== n) return false;
    if (this.filter.length !== filterWords(n)) return false;
    for (let o = 0; o < rec.length; o += STRIDE) {
      if (!filterHas(this.filter, hashKey(rec[o + F_HI], rec[o + F_LO]))) return false;
    }
    for (let b = 0; b + 1 < dir.length; b++) {
      if (dir[b] > dir[b + 1]) return false;
      for (let i = dir[b] + 1; i < dir[b + 1]; i++)
        if (before(rec, i * STRIDE, (i - 1) * STRIDE)) return false;
    }
    return true;
  }
}
