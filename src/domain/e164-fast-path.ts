import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * libphonenumber's answer for a national digit string (`e164Digits` or the digits unchanged when the
 * number is not a possible one in `country`): 10-17 µs a number, the reference the fast path below
 * is checked against.
 */
export function libphonenumberE164(digits: string, country: string): string {
  const parsed = parsePhoneNumberFromString(digits, country as CountryCode);
  return parsed?.isPossible() ? parsed.number.slice(1) : digits;
}

/** How the numbers of one shape (country, length, leading digits) become E.164: drop some leading digits, put a prefix. */
interface Rewrite {
  readonly drop: number;
  readonly prepend: string;
}

/** Leading digits that decide a rewrite: international and national prefixes and area codes live there. */
const KEY_DIGITS = 7;
/** Shapes remembered; past this the least recently used is forgotten first (memory stays bounded). */
const MAX_SHAPES = 100_000;

/** A hit moves its shape to the young end of the map once every few hits (cheap, close to LRU). */
const TOUCH_EVERY = 4;
let touches = 0;

const UNSTABLE: Rewrite = Object.freeze({ drop: -1, prepend: '' });
const shapes = new Map<string, Rewrite>();

/** The rewrite that turns `digits` into `e164`, when the result keeps the tail of the input. */
function rewriteOf(digits: string, e164: string): Rewrite | undefined {
  for (let drop = 0; drop <= Math.min(KEY_DIGITS, digits.length); drop++) {
    const tail = digits.slice(drop);
    if (e164.endsWith(tail) && e164.length - tail.length <= 4) {
      return { drop, prepend: e164.slice(0, e164.length - tail.length) };
    }
  }
  return undefined;
}

const apply = (r: Rewrite, digits: string) => r.prepend + digits.slice(r.drop);

/** The same shape with other digits after the key: the probe that a rewrite depends on the key only. */
function probeOf(digits: string): string {
  let out = digits.slice(0, KEY_DIGITS);
  for (let i = KEY_DIGITS; i < digits.length; i++) out += String((Number(digits[i]) * 7 + 3) % 10);
  return out;
}

/**
 * `e164` normalisation of a national digit string (0-9 only), in well under a microsecond once the
 * number's shape was seen: numbers of the same country, length and first seven digits are rewritten
 * the same way by libphonenumber (a national or international prefix dropped, a calling code put in
 * front), so the first number of a shape is parsed by libphonenumber and the rewrite is remembered.
 * A shape is trusted only when a second number of it with different trailing digits gives the same
 * rewrite; otherwise libphonenumber answers for every number of that shape. Checked against
 * libphonenumber on random numbers per country (test/domain/e164-fast-path.test.ts, bench numbers).
 */
export function fastE164(digits: string, country: string): string {
  const key = `${country}${digits.length}:${digits.length > KEY_DIGITS ? digits.slice(0, KEY_DIGITS) : digits}`;
  const known = shapes.get(key);
  if (known !== undefined) {
    // least recently used goes first: a shape in use now and then stays, one-off shapes pass through
    if (++touches % TOUCH_EVERY === 0) {
      shapes.delete(key);
      shapes.set(key, known);
    }
    return known === UNSTABLE ? libphonenumberE164(digits, country) : apply(known, digits);
  }
  const e164 = libphonenumberE164(digits, country);
  let rewrite = rewriteOf(digits, e164) ?? UNSTABLE;
  if (rewrite !== UNSTABLE && digits.length > KEY_DIGITS) {
    const probe = probeOf(digits);
    if (libphonenumberE164(probe, country) !== apply(rewrite, probe)) rewrite = UNSTABLE;
  }
  if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value as string);
  shapes.set(key, rewrite);
  return e164;
}

/** For tests and benchmarks: forget every shape. */
export function forgetE164Shapes(): void {
  shapes.clear();
}
