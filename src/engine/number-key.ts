/**
 * A number of up to 16 characters packed into two 32-bit words, one nibble per character
 * (0-9 → 1..10, * → 11, # → 12, 0 = no character). Equal numbers give equal keys; the packing is
 * reversible so the index never has to keep the number as a string.
 */
export const MAX_KEY_CHARS = 16;

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
 */
// hot path
export function packPrefix(number: string, out: Uint32Array, at: number): boolean {
  const length = number.length;
  if (length === 0) return false;
  let hi = 0;
  let lo = 0;
  // One pass, digits without a table read: the characters of a call number are nearly all digits.
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
  return h >>> (32 - HASH_BITS);
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
