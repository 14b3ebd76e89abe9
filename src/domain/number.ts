import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { fastE164 } from './e164-fast-path.js';
import { cgError } from './errors.js';

/** A number is 1..32 characters of 0-9 * #; service codes such as *67 are numbers too. */
export const MAX_NUMBER_LENGTH = 32;

/** The calling side of a call with no usable caller id. Only the `anonymous` pattern matches it. */
export const ANONYMOUS = 'anonymous';

/** How a tenant compares numbers: as E.164 digits (national numbers completed with a default country) or as dialled. */
export type NormalizationPolicy =
  | { readonly mode: 'e164'; readonly defaultCountry: string }
  | { readonly mode: 'digits' };

export const DIGITS_POLICY: NormalizationPolicy = { mode: 'digits' };

const SEPARATORS = /[+\s\-.()]/g;
const NUMBER_CHARS = /^[0-9*#]+$/;
const ANONYMOUS_WORDS = new Set([
  '',
  'anonymous',
  'restricted',
  'unknown',
  'private',
  'unavailable',
  'withheld',
]);

/** Strips the separators people type (+, spaces, -, ., parentheses) and checks what is left. */
export function stripNumber(raw: string): string {
  const stripped = raw.replace(SEPARATORS, '');
  if (stripped.length === 0) {
    throw cgError(
      'CG_ERR_NUMBER_INVALID',
      `number "${raw}" is empty; a number is 1-32 characters of 0-9 * #`,
    );
  }
  if (!NUMBER_CHARS.test(stripped)) {
    throw cgError(
      'CG_ERR_NUMBER_INVALID',
      `number "${raw}" contains characters other than 0-9 * # (separators + space - . ( ) are ignored)`,
    );
  }
  if (stripped.length > MAX_NUMBER_LENGTH) {
    throw cgError(
      'CG_ERR_NUMBER_INVALID',
      `number "${raw}" has ${stripped.length} characters; at most ${MAX_NUMBER_LENGTH} are accepted`,
    );
  }
  return stripped;
}

/**
 * The number as the tenant compares it. Under `e164` a national number gains the default
 * country's calling code ("(404) 526-6123" in US → 14045266123); a number that is not a possible
 * phone number there (short codes, service codes with * or #) is kept as dialled.
 */
export function normalizeNumber(raw: string, policy: NormalizationPolicy): string {
  const stripped = stripNumber(raw);
  if (policy.mode === 'digits') return stripped;
  if (raw.trimStart().startsWith('+')) return stripped;
  if (stripped.includes('*') || stripped.includes('#')) return stripped;
  return fastE164(stripped, policy.defaultCountry);
}

/**
 * The calling number of a live call. Caller ids that say "nobody" become ANONYMOUS; one that is not
 * a number at all (a SIP user name) becomes '' which no number pattern matches.
 */
export function normalizeCallingNumber(raw: string | undefined | null, policy: NormalizationPolicy): string {
  const trimmed = (raw ?? '').trim();
  if (ANONYMOUS_WORDS.has(trimmed.toLowerCase())) return ANONYMOUS;
  const stripped = trimmed.replace(SEPARATORS, '');
  // separators alone ("+", "-") are no caller id; all zeros is a withheld one
  if (stripped.length === 0 || /^0+$/.test(stripped)) return ANONYMOUS;
  return normalizeCallNumber(trimmed, policy);
}

function isPlainDigits(raw: string): boolean {
  const n = raw.length;
  if (n === 0 || n > MAX_NUMBER_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Only what stripNumber accepts: 1-32 of 0-9 * # once the separators are gone. */
const CALL_NUMBER = /^[0-9*#+\s\-.()]+$/;

/**
 * The called number of a live call; '' when it is not a number (no number pattern matches ''). A
 * value that is not a number (`s`, a SIP user name) is told apart without throwing: the call path
 * never pays for an exception.
 */
export function normalizeCallNumber(raw: string | undefined | null, policy: NormalizationPolicy): string {
  if (raw == null) return '';
  // What PBXs send almost always: plain digits, which need no stripping or checking.
  if (isPlainDigits(raw)) return policy.mode === 'digits' ? raw : fastE164(raw, policy.defaultCountry);
  if (!CALL_NUMBER.test(raw)) return '';
  const stripped = raw.replace(SEPARATORS, '');
  if (stripped.length === 0 || stripped.length > MAX_NUMBER_LENGTH) return '';
  return normalizeNumber(raw, policy);
}

/** ISO 3166 alpha-2 country of an E.164 digit string, or undefined when it cannot be told. */
export function countryOfNumber(e164Digits: string): string | undefined {
  if (e164Digits === ANONYMOUS || e164Digits.length < 4 || !/^[0-9]+$/.test(e164Digits)) return undefined;
  return parsePhoneNumberFromString(`+${e164Digits}`)?.country;
}
