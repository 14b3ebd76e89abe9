/**
 * A split-block Bloom filter over packed number keys: one 16-byte block a key, one bit set in each of
 * its four words. About 10 bits a key gives ~1.6% false positives, so a number that is in no exact
 * rule (most calls) costs one memory access instead of a directory read and a record scan. Four words
 * rather than eight: each word tested costs about fifteen instructions on every decision, and the
 * ~0.3% more false positives cost one more record scan in about three hundred calls (docs/DECISIONS.md).
 */
// An Int32Array, not an array: three salts exceed 2^31, which makes a plain array hold doubles and
// every Math.imul convert one back; imul reads both the same (modulo 2^32), so the bits are the same.
const SALT = Int32Array.from([0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d]);
export const FILTER_BITS_PER_KEY = 10;

/**
 * The hash that picks the bits inside a block, re-mixed from the key hash: the block comes from its
 * high bits, so the bits must depend on all of it.
 */
function bitHash(h1: number): number {
  let h = Math.imul(h1 ^ (h1 >>> 16), 0x2c1b3c6d);
  h ^= h >>> 12;
  return Math.imul(h, 0x297a2d39) >>> 0;
}

export function filterWords(keys: number): number {
  return Math.max(1, Math.ceil((keys * FILTER_BITS_PER_KEY) / 128)) * 4;
}

// hot path
function blockOf(words: Uint32Array, h1: number): number {
  // 1073741824 is HASH_RANGE, written out: an imported constant is a load and a division at run time,
  // a literal power of two a multiplication. The product (under 2^53) and the quotient are exact.
  return Math.floor((h1 * (words.length >>> 2)) / 1073741824) << 2;
}

export function filterAdd(words: Uint32Array, h1: number): void {
  const block = blockOf(words, h1);
  const h2 = bitHash(h1);
  for (let i = 0; i < 4; i++) words[block + i] |= 1 << (Math.imul(h2, SALT[i]) >>> 27);
}

// hot path
export function filterHas(words: Uint32Array, h1: number): boolean {
  const b = blockOf(words, h1);
  const h2 = bitHash(h1);
  // The four words written out with their salts as literals (SALT's values): a loop re-reads the
  // salt array and re-checks both arrays every turn, about four times the instructions. No branch
  // between the words: for a number not in the filter each test is a coin toss, so an early exit
  // mispredicts about once a lookup.
  const missing =
    (~words[b] & (1 << (Math.imul(h2, 0x47b6137b) >>> 27))) |
    (~words[b + 1] & (1 << (Math.imul(h2, 0x44974d91) >>> 27))) |
    (~words[b + 2] & (1 << (Math.imul(h2, 0x8824ad5b) >>> 27))) |
    (~words[b + 3] & (1 << (Math.imul(h2, 0xa2b7289d) >>> 27)));
  return missing === 0;
}
