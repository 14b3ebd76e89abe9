import fc from 'fast-check';
import { type CountryCode, getCountryCallingCode } from 'libphonenumber-js';

/**
 * Digit strings as callers and campaign lists give them in one country: national numbers with and
 * without the trunk prefix, with an international prefix and a calling code, with the calling code
 * alone, short codes and junk lengths. Half of them share one of a few hundred leading parts, as
 * numbers of one area code do, so that the same prefixes and patterns are met with many tails.
 */
export function nationalNumberArbitrary(country: string): fc.Arbitrary<string> {
  const cc = getCountryCallingCode(country as CountryCode);
  const digits = (min: number, max: number) =>
    fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
  const lead = fc.constantFrom(
    '',
    '0',
    '00',
    '011',
    '1',
    '8',
    '810',
    `00${cc}`,
    `011${cc}`,
    cc,
    `0${cc}`,
    '+',
  );
  const shared = fc
    .integer({ min: 0, max: 299 })
    .map((i) => String((i * 7_919_993 + 1_234_567) % 10_000_000).padStart(7, '0'));
  return fc
    .oneof(
      fc.tuple(lead, digits(1, 14)).map(([a, b]) => a + b),
      fc.tuple(shared, digits(0, 8)).map(([a, b]) => a + b),
      fc.tuple(fc.constantFrom(cc, '0', '1'), shared, digits(0, 6)).map(([a, b, c]) => a + b + c),
    )
    .map((s) => s.replace(/\+/g, ''))
    .filter((s) => s.length >= 1 && s.length <= 17);
}
