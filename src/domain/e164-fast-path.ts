import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import {
  answerOf,
  type CallingCodeTable,
  forgetPlans,
  isCallingCode,
  type LengthQuestion,
  lengthVerdict,
  type NumberingPlan,
  planOf,
  tableOf,
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

/** Whether getCountryByNationalNumber would settle on `plan`'s country for this national number. */
function isOfCountry(national: string, plan: NumberingPlan): boolean {
  if (plan.leadingDigits) return national.length > 0 && plan.leadingDigits.test(national);
  return hasType(national, plan);
}

/**
 * libphonenumber's answer to a length question for a national number of the table's calling code: asked of the
 * country the number belongs to (getCountryByCallingCode), or of `fallback` when it belongs to none.
 * The country is looked for only until the countries left can no longer change the answer.
 */
function lengthAnswer(
  question: LengthQuestion,
  national: string,
  table: CallingCodeTable,
  fallback: NumberingPlan,
): boolean {
  const n = national.length;
  const { plans } = table;
  if (plans.length === 1) return answerOf(question, lengthVerdict(n, plans[0].lengths));
  const otherwise = answerOf(question, lengthVerdict(n, fallback.lengths));
  const settled = table.settled[question][n];
  for (let j = 0; j < plans.length; j++) {
    if (settled !== undefined && settled[j] === otherwise) return otherwise;
    if (isOfCountry(national, plans[j])) return answerOf(question, lengthVerdict(n, plans[j].lengths));
  }
  return otherwise;
}

/** extractNationalNumber: the national (trunk) prefix dropped when libphonenumber would drop it. */
function nationalNumberOf(number: string, plan: NumberingPlan, table: CallingCodeTable): string {
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
  return lengthAnswer('incomplete', national, table, plan) ? national : number;
}

/**
 * What parsePhoneNumberFromString finds in a digit string: the calling code (its table), the national
 * number and the plan whose lengths decide when the number is of none of the calling code's
 * countries; or no number at all; or a case left to libphonenumber.
 */
type Parsed =
  | {
      readonly callingCode: string;
      readonly national: string;
      readonly table: CallingCodeTable;
      readonly fallback: NumberingPlan;
    }
  | 'none'
  | 'ask-libphonenumber';

function parseDigits(digits: string, home: NumberingPlan): Parsed {
  // an international prefix (stripIddPrefix), then a calling code
  const idd = home.idd?.exec(digits);
  if (idd && idd[0].length > 0 && idd[0].length < digits.length && digits[idd[0].length] !== '0') {
    const rest = digits.slice(idd[0].length);
    for (let k = 1; k <= MAX_CALLING_CODE && k <= rest.length; k++) {
      const callingCode = rest.slice(0, k);
      if (!isCallingCode(callingCode)) continue;
      const table = tableOf(callingCode);
      if (!table) return 'ask-libphonenumber'; // non-geographic (800, 881…): rare
      const number = rest.slice(k);
      if (!number) return 'none';
      // selected by calling code: its main country's plan
      const main = table.plans[0];
      return { callingCode, national: nationalNumberOf(number, main, table), table, fallback: main };
    }
    return 'none';
  }
  const own = home.callingCode;
  const table = tableOf(own);
  if (!table) return 'ask-libphonenumber';
  // the home calling code without a prefix (extractCountryCallingCodeFromInternationalNumberWithoutPlusSign)
  if (digits.startsWith(own)) {
    const shorter = digits.slice(own.length);
    const shorterNational = nationalNumberOf(shorter, home, table);
    const national = nationalNumberOf(digits, home, table);
    if (
      (!home.nationalNumber.test(national) && home.nationalNumber.test(shorterNational)) ||
      lengthVerdict(national.length, home.lengths) === 'TOO_LONG'
    ) {
      if (!shorter) return 'none';
      const main = table.plans[0];
      return { callingCode: own, national: nationalNumberOf(shorter, main, table), table, fallback: main };
    }
  }
  return { callingCode: own, national: nationalNumberOf(digits, home, table), table, fallback: home };
}

/**
 * `e164` normalisation of a national digit string (0-9 only), exactly as libphonenumber-js's
 * `parsePhoneNumberFromString(digits, country)` followed by `isPossible()` decides it, in 0.1-0.5 µs
 * whatever the number and with nothing remembered per number: the same steps (international prefix,
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
  const { callingCode, national, table, fallback } = parsed;
  if (national.length < MIN_NATIONAL || national.length > MAX_NATIONAL) return digits;
  return lengthAnswer('possible', national, table, fallback) ? callingCode + national : digits;
}

/** For tests and benchmarks: start from uncompiled metadata. */
export function forgetE164Plans(): void {
  forgetPlans();
}
