/**
 * A split-block Bloom filter over packed number keys: one 32-byte block a key, 8 bits set in it.
 * About 10 bits a key gives ~1% false positives, so a number that is in no exact rule (most calls)
 * costs one memory access instead of a directory read and a record scan.
 */
const SALT = [0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31];
export const FILTER_BITS_PER_KEY = 10;

/** A second hash, independent of hashKey, that picks the bits inside a block. */
function bitHash(hi: number, lo: number): number {
  let h = Math.imul(lo ^ 0x5bd1e995, 0xcc9e2d51) ^ Math.imul(hi, 0x1b873593);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

export function filterWords(keys: number): number {
  return Math.max(1, Math.ceil((keys * FILTER_BITS_PER_KEY) / 256)) * 8;
}

function blockOf(words: Uint32Array, h1: number): number {
  return Math.floor((h1 / 4294967296) * (words.length >>> 3)) << 3;
}

export function filterAdd(words: Uint32Array, h1: number, hi: number, lo: number): void {
  const block = blockOf(words, h1);
  const h2 = bitHash(hi, lo);
  for (let i = 0; i < 8; i++) words[block + i] |= 1 << (Math.imul(h2, SALT[i]) >>> 27);
}

// hot path
export function filterHas(words: Uint32Array, h1: number, hi: number, lo: number): boolean {
  const block = blockOf(words, h1);
  const h2 = bitHash(hi, lo);
  for (let i = 0; i < 8; i++)
    if ((words[block + i] & (1 << (Math.imul(h2, SALT[i]) >>> 27))) === 0) return false;
  return true;
}
