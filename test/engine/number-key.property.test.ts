import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MAX_KEY_CHARS, packNumber, packPrefix, unpackNumber } from '../../src/engine/number-key.js';

/** The packing as number-key.ts defines it, one character at a time: 0-9 → 1..10, * → 11, # → 12. */
function referencePack(number: string): [number, number] | null {
  if (number.length === 0) return null;
  const words = [0, 0];
  for (let i = 0; i < number.length; i++) {
    const symbol = '0123456789*#'.indexOf(number[i]) + 1;
    if (symbol === 0) return null;
    if (i < MAX_KEY_CHARS) words[i >> 3] += symbol * 16 ** (7 - (i & 7));
  }
  return [words[0], words[1]];
}

// Mostly digits, so that carrier-length numbers (the unrolled path) are common; then the characters
// next to the digits in the code table, * and #, and a few that are not numbers at all.
const char = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 1, arbitrary: fc.constantFrom('*', '#', '/', ':', '+', ' ', 'a', '\u0663', '\u0130') },
);
const numberText = fc.array(char, { maxLength: 20 }).map((c) => c.join(''));

describe('number keys', () => {
  it('packPrefix packs exactly the reference packing, and refuses what it refuses', () => {
    fc.assert(
      fc.property(numberText, fc.integer({ min: 0, max: 4 }), (number, at) => {
        const out = new Uint32Array(at + 2).fill(0xdeadbeef);
        const want = referencePack(number);
        assert.equal(packPrefix(number, out, at), want !== null, number);
        if (want) assert.deepEqual([out[at], out[at + 1]], want, number);
        assert.equal(packNumber(number, out), want !== null && number.length <= MAX_KEY_CHARS, number);
        if (want) assert.equal(unpackNumber(want[0], want[1]), number.slice(0, MAX_KEY_CHARS));
      }),
      { numRuns: 20_000 },
    );
  });
});
