import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import {
  agreedLengthVerdict,
  countriesOfCallingCode,
  forgetPlans,
  isCallingCode,
  type LengthVerdict,
  lengthVerdict,
  type NumberingPlan,
  planOf,
} from './e164-numbering-plans.js';

/**
 * libphonenumber's answer for a national digit string (`e164Digits` or the digits unchanged when the
 * number is not a possible one in `country`): 10-17 µs a number, the reference the fast path below
 * is checked against.
 */
export function libphonenumberE164(digits: string, country: string): string {
  const parsed = parsePhoneNumberFromString(digits, country as CountryCode);
  return parsed?.isPossible() ? parsed.number.slice(1) : digits;
}

/** libphonenumber's bounds on a national significant number (MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN). */
const MIN_NATIONAL = 2;
const MAX_NATIONAL = 17;
/** Calling codes have 1-3 digits. */
const MAX_CALLING_CODE = 3;

/** getNumberType(...) !== undefined: the number is one of the plan's types. */
function hasType(national: string, plan: NumberingPlan): boolean {
  if (!plan.nationalNumber.test(national)) return false;
  for (const type of plan.types) {
    if (type.lengths.indexOf(national.length) >= 0 && type.pattern.test(national)) return true;
  }
  return false;
}

/** getCountryByCallingCode: which country of a shared calling code a national number belongs to. */
function countryOf(callingCode: string, national: string): string | undefined {
  const countries = countriesOfCallingCode(callingCode);
  if (!countries) return undefined;
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planOf(country);
    if (!plan) continue;
    if (plan.leadingDigits) {
      if (national && plan.leadingDigits.test(national)) return country;
    } else if (hasType(national, plan)) return country;
  }
  return undefined;
}

/**
 * checkNumberLength of a national number of `callingCode` in the country it belongs to, or in
 * `fallback` when it belongs to none; the country is looked for only when its countries disagree.
 */
function verdictOf(national: string, callingCode: string, fallback: NumberingPlan): LengthVerdict {
  const agreed = agreedLengthVerdict(callingCode, national.length);
  if (agreed !== undefined) return agreed;
  const country = countryOf(callingCode, national);
  const plan = (country && planOf(country)) || fallback;
  return lengthVerdict(national.length, plan.lengths);
}

/** extractNationalNumber: the national (trunk) prefix dropped when libphonenumber would drop it. */
function nationalNumberOf(number: string, plan: NumberingPlan): string {
  if (!number || !plan.nationalPrefix) return number;
  const match = plan.nationalPrefix.exec(number);
  if (!match) return number;
  const groups = match.length - 1;
  const captured = groups > 0 && Boolean(match[groups]);
  const national =
    plan.nationalPrefixTransform && captured
      ? number.replace(plan.nationalPrefix, plan.nationalPrefixTransform)
      : number.slice(match[0].length);
  if (national === number) return number;
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(national)) return number;
  const verdict = verdictOf(national, plan.callingCode, plan);
  return verdict === 'TOO_SHORT' || verdict === 'INVALID_LENGTH' ? number : national;
}

/**
 * What parsePhoneNumberFromString finds in a digit string: the calling code, the national number
 * and the plan whose lengths decide when the number is of none of the calling code's countries; or
 * no number at all; or a case left to libphonenumber.
 */
type Parsed =
  | { readonly callingCode: string; readonly national: string; readonly fallback: NumberingPlan }
  | 'none'
  | 'ask-libphonenumber';

/** The main country's plan of a calling code (the one libphonenumber selects by calling code). */
function mainPlanOf(callingCode: string): NumberingPlan | null {
  const countries = countriesOfCallingCode(callingCode);
  return countries ? planOf(countries[0]) : null;
}

function parseDigits(digits: string, home: NumberingPlan): Parsed {
  // an international prefix (stripIddPrefix), then a calling code
  const idd = home.idd?.exec(digits);
  if (idd && idd[0].length > 0 && idd[0].length < digits.length && digits[idd[0].length] !== '0') {
    const rest = digits.slice(idd[0].length);
    for (let k = 1; k <= MAX_CALLING_CODE && k <= rest.length; k++) {
      const callingCode = rest.slice(0, k);
      if (!isCallingCode(callingCode)) continue;
      const plan = mainPlanOf(callingCode);
      if (!plan) return 'ask-libphonenumber'; // non-geographic (800, 881…): rare
      const number = rest.slice(k);
      if (!number) return 'none';
      return { callingCode, national: nationalNumberOf(number, plan), fallback: plan };
    }
    return 'none';
  }
  // the home calling code without a prefix (extractCountryCallingCodeFromInternationalNumberWithoutPlusSign)
  const own = home.callingCode;
  if (digits.startsWith(own)) {
    const shorter = digits.slice(own.length);
    const shorterNational = nationalNumberOf(shorter, home);
    const national = nationalNumberOf(digits, home);
    if (
      (!home.nationalNumber.test(national) && home.nationalNumber.test(shorterNational)) ||
      lengthVerdict(national.length, home.lengths) === 'TOO_LONG'
    ) {
      const plan = mainPlanOf(own);
      if (!plan) return 'ask-libphonenumber';
      if (!shorter) return 'none';
      return { callingCode: own, national: nationalNumberOf(shorter, plan), fallback: plan };
    }
  }
  return { callingCode: own, national: nationalNumberOf(digits, home), fallback: home };
}

/**
 * `e164` normalisation of a national digit string (0-9 only), exactly as libphonenumber-js's
 * `parsePhoneNumberFromString(digits, country)` followed by `isPossible()` decides it, in about a
 * hundred nanoseconds and with nothing remembered per number: the same steps (international prefix,
 * the calling code given without one, the trunk prefix and its transform rule, the country of a
 * shared calling code, possible lengths) run on each country's metadata compiled once
 * (e164-numbering-plans.ts) instead of patterns compiled on every call. Non-geographic calling codes
 * and unknown countries, rare, are left to libphonenumber. Checked against libphonenumber on random
 * numbers per country (test/domain/e164-fast-path.test.ts, bench numbers).
 */
export function fastE164(digits: string, country: string): string {
  if (digits.length < MIN_NATIONAL) return digits; // one digit is not a number to libphonenumber
  const home = planOf(country);
  if (!home) return libphonenumberE164(digits, country);
  const parsed = parseDigits(digits, home);
  if (parsed === 'none') return digits;
  if (parsed === 'ask-libphonenumber') return libphonenumberE164(digits, country);
  const { callingCode, national, fallback } = parsed;
  if (national.length < MIN_NATIONAL || national.length > MAX_NATIONAL) return digits;
  return verdictOf(national, callingCode, fallback) === 'IS_POSSIBLE' ? callingCode + national : digits;
}

/** For tests and benchmarks: start from uncompiled metadata. */
export function forgetE164Plans(): void {
  forgetPlans();
}
