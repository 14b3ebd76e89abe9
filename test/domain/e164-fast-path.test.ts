import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getCountries } from 'libphonenumber-js';
import { describe, it } from 'vitest';
import { fastE164, forgetE164Plans, libphonenumberE164 } from '../../src/domain/e164-fast-path.js';
import { normalizeCallingNumber, normalizeCallNumber } from '../../src/domain/number.js';
import { nationalNumberArbitrary } from '../support/national-numbers.js';

/** The countries the tests use (US, LV) and a few with awkward trunk and international prefixes. */
const COUNTRIES = ['US', 'LV', 'GB', 'DE', 'IT', 'AR', 'RU', 'IN'];

describe('e164 fast path agrees with libphonenumber', () => {
  for (const country of COUNTRIES) {
    it(`${country}: the same answer for random national digit strings`, () => {
      forgetE164Plans();
      fc.assert(
        fc.property(nationalNumberArbitrary(country), (digits) => {
          assert.equal(fastE164(digits, country), libphonenumberE164(digits, country), digits);
        }),
        { numRuns: 20_000 },
      );
    });
  }

  it('every country libphonenumber knows: the same answer for national numbers and for any digits', () => {
    const anyDigits = fc.stringMatching(/^[0-9]{1,32}$/);
    for (const country of getCountries()) {
      fc.assert(
        fc.property(fc.oneof(nationalNumberArbitrary(country), anyDigits), (digits) => {
          assert.equal(
            fastE164(digits, country),
            libphonenumberE164(digits, country),
            `${country} ${digits}`,
          );
        }),
        { numRuns: 200 },
      );
    }
  });

  it('the cases left to libphonenumber get its answer too', () => {
    const cases: [string, string][] = [
      ['01180012345678', 'US'], // non-geographic calling code 800 after the international prefix
      ['0088213012345', 'DE'], // 882, non-geographic
      ['12025550123', 'XX'], // not a country
      ['12025550123', 'us'], // countries are upper case
      ['5', 'US'], // one digit
    ];
    for (const [digits, country] of cases)
      assert.equal(fastE164(digits, country), libphonenumberE164(digits, country), `${country} ${digits}`);
  });

  it('values that are not numbers are told apart without exceptions', () => {
    const policy = { mode: 'e164', defaultCountry: 'US' } as const;
    for (const raw of ['s', 'alice', 'sip:bob@example.com', '1-800-FLOWERS', '', ' ', '1'.repeat(40)])
      assert.equal(normalizeCallNumber(raw, policy), '', raw);
    assert.equal(normalizeCallingNumber('alice', policy), '');
    assert.equal(normalizeCallNumber('(404) 526-6123', policy), '14045266123');
    assert.equal(normalizeCallNumber('*67', policy), '*67');
  });
});
