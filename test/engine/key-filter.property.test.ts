import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { filterAdd, filterHas, filterWords } from '../../src/engine/key-filter.js';
import { HASH_RANGE } from '../../src/engine/number-key.js';

const hashes = (count: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: HASH_RANGE - 1 }), { minLength: count, maxLength: count });

describe('the key filter', () => {
  // filterHas tests its four words with the salts written out; filterAdd sets them from the salt
  // table. A salt copied wrong would turn listed numbers away: an exact rule that never matches.
  it('lets through every key it was given, whatever the filter size', () => {
    fc.assert(
      fc.property(hashes(600), fc.integer({ min: 1, max: 600 }), (keys, count) => {
        const words = new Uint32Array(filterWords(count));
        for (const h of keys.slice(0, count)) filterAdd(words, h);
        for (const h of keys.slice(0, count)) assert.equal(filterHas(words, h), true, `key ${h}`);
      }),
      { numRuns: 300 },
    );
  });

  it('turns away about 98% of keys it was not given', () => {
    fc.assert(
      fc.property(hashes(40_000), (keys) => {
        const given = keys.slice(0, 20_000);
        const words = new Uint32Array(filterWords(given.length));
        for (const h of given) filterAdd(words, h);
        let through = 0;
        for (const h of keys.slice(20_000)) if (filterHas(words, h)) through++;
        // ~1.6% at 10 bits a key (split-block Bloom filter, 4 bits a key in one 16-byte block).
        assert.ok(through / 20_000 < 0.02, `${through} of 20000 let through`);
      }),
      // No shrinking: a rate over 40,000 keys does not shrink to a smaller case, and shrinking an
      // array that size would run for many minutes before the failure is reported.
      { numRuns: 5, endOnFailure: true },
    );
  });
});
