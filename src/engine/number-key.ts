/**
 * A number of up to 16 characters packed into two 32-bit words, one nibble per character
 * (0-9 → 1..10, * → 11, # → 12, 0 = no character). Equal numbers give equal keys; the packing is
 * reversible so the index never has to keep the number as a string.
 */
export const MAX_KEY_CHARS = 16;
/** The characters packHead() reads: a call number's head, all a prefix stem test of up to 8 needs. */
export const HEAD_CHARS = 8;

const CHAR_OF_SYMBOL = ['', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

/**
 * Packs `number` into out[0] (characters 0-7) and out[1] (characters 8-15). Returns false when the
 * number cannot be keyed (empty, longer than 16, or a character that is not 0-9 * #).
 */
export function packNumber(number: string, out: Uint32Array): boolean {
  return number.length <= MAX_KEY_CHARS && packPrefix(number, out, 0);
}

/**
 * Packs the first (up to) 16 characters of a call number into out[at], out[at + 1]; false when it
 * has a character that is not 0-9 * # (ANONYMOUS, '') so that no number pattern is looked up for it.
 * The whole packing in one call, for building keys and as the reference the property test holds the
 * fast path to; the call path packs in two steps instead (CallKeys: packHead, then packTail).
 */
export function packPrefix(number: string, out: Uint32Array, at: number): boolean {
  const length = number.length;
  if (length < 8 || length > 16 || !packHead(number, out, at) || !packTail(number, out, at))
    return packAny(number, out, at);
  return true;
}

/**
 * The usual call number, 8-16 characters, all digits: packs its first eight into out[at] (out[at + 1]
 * is left as it was) and returns whether they are all digits. The caller checks the length and takes
 * packAny() for anything else. Characters are read without a loop (each charCodeAt in a loop costs a
 * string-shape dispatch, a bounds check and an interrupt check) and checked with one branch: for
 * c = code - 48, c | (c + 6) stays below 16 exactly when c is 0-9.
 */
// hot path
export function packHead(number: string, out: Uint32Array, at: number): boolean {
  const c0 = number.charCodeAt(0) - 48;
  const c1 = number.charCodeAt(1) - 48;
  const c2 = number.charCodeAt(2) - 48;
  const c3 = number.charCodeAt(3) - 48;
  const c4 = number.charCodeAt(4) - 48;
  const c5 = number.charCodeAt(5) - 48;
  const c6 = number.charCodeAt(6) - 48;
  const c7 = number.charCodeAt(7) - 48;
  let bad =
    c0 |
    (c0 + 6) |
    c1 |
    (c1 + 6) |
    c2 |
    (c2 + 6) |
    c3 |
    (c3 + 6) |
    c4 |
    (c4 + 6) |
    c5 |
    (c5 + 6) |
    c6 |
    (c6 + 6);
  bad |= c7 | (c7 + 6);
  out[at] =
    ((c0 + 1) << 28) |
    ((c1 + 1) << 24) |
    ((c2 + 1) << 20) |
    ((c3 + 1) << 16) |
    ((c4 + 1) << 12) |
    ((c5 + 1) << 8) |
    ((c6 + 1) << 4) |
    (c7 + 1);
  return (bad & ~15) === 0;
}

/**
 * The rest of a number packHead() took (characters 8-15) into out[at + 1]; whether they are all
 * digits. One test per character instead of a loop: a call number has 3-4 of them, and a loop's
 * bounds and interrupt checks cost as much as the reads.
 */
// hot path
export function packTail(number: string, out: Uint32Array, at: number): boolean {
  const length = number.length;
  let lo = 0;
  let bad = 0;
  let c = 0;
  if (length > 8) {
    c = number.charCodeAt(8) - 48;
    bad = c | (c + 6);
    lo = (c + 1) << 28;
  }
  if (length > 9) {
    c = number.charCodeAt(9) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 24;
  }
  if (length > 10) {
    c = number.charCodeAt(10) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 20;
  }
  if (length > 11) {
    c = number.charCodeAt(11) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 16;
  }
  if (length > 12) {
    c = number.charCodeAt(12) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 12;
  }
  if (length > 13) {
    c = number.charCodeAt(13) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 8;
  }
  if (length > 14) {
    c = number.charCodeAt(14) - 48;
    bad |= c | (c + 6);
    lo |= (c + 1) << 4;
  }
  if (length > 15) {
    c = number.charCodeAt(15) - 48;
    bad |= c | (c + 6);
    lo |= c + 1;
  }
  out[at + 1] = lo;
  return (bad & ~15) === 0;
}

/** packPrefix for any string: one character at a time, * and # included. */
export function packAny(number: string, out: Uint32Array, at: number): boolean {
  const length = number.length;
  if (length === 0) return false;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < length; i++) {
    const c = number.charCodeAt(i);
    let s = c - 47;
    if (s < 1 || s > 10) {
      s = c === 42 ? 11 : c === 35 ? 12 : 0;
      if (s === 0) return false;
    }
    if (i < 8) hi |= s << (28 - 4 * i);
    else if (i < MAX_KEY_CHARS) lo |= s << (60 - 4 * i);
  }
  out[at] = hi;
  out[at + 1] = lo;
  return true;
}

export function unpackNumber(hi: number, lo: number): string {
  let s = '';
  for (let i = 0; i < MAX_KEY_CHARS; i++) {
    const word = i < 8 ? hi : lo;
    const sym = (word >>> (28 - 4 * (i & 7))) & 15;
    if (sym === 0) break;
    s += CHAR_OF_SYMBOL[sym];
  }
  return s;
}

/**
 * Bits of a key hash. 30, not 32: a 30-bit value is a small integer in V8 (31 bits under pointer
 * compression), so a hash returned from a call that is not inlined is not a heap number: no
 * allocation per decision.
 */
export const HASH_BITS = 30;
export const HASH_RANGE = 2 ** HASH_BITS;

/** A well-mixed HASH_BITS-bit hash of a packed key (murmur3 finaliser over both words, top bits). */
export function hashKey(hi: number, lo: number): number {
  let h = Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ lo;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // 2 = 32 - HASH_BITS, written out: an imported constant is a load and a variable shift.
  return h >>> 2;
}

/** How many characters a packed key holds. */
export function packedLength(hi: number, lo: number): number {
  let n = 0;
  for (let i = 0; i < MAX_KEY_CHARS; i++) {
    if (((i < 8 ? hi : lo) >>> (28 - 4 * (i & 7))) & 15) n++;
    else break;
  }
  return n;
}
