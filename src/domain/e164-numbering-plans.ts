import { Metadata } from 'libphonenumber-js/core';
import metadataJson from 'libphonenumber-js/min/metadata';

/**
 * One country's numbering plan as libphonenumber-js reads it when it parses a number (its `min`
 * metadata, the one `parsePhoneNumberFromString` uses), compiled once: every pattern becomes a
 * RegExp here instead of on each call, which is where libphonenumber spends most of its 10-17 µs.
 */
export interface NumberingPlan {
  readonly country: string;
  readonly callingCode: string;
  /** The international (IDD) prefix, anchored at the start: `00`, `011`, `810`. */
  readonly idd: RegExp | undefined;
  /** The whole national number pattern (`^(?:…)$`). */
  readonly nationalNumber: RegExp;
  /** Possible lengths of a national number, ascending. */
  readonly lengths: readonly number[];
  /** National (trunk) prefix for parsing, anchored at the start, and its transform rule. */
  readonly nationalPrefix: RegExp | undefined;
  readonly nationalPrefixTransform: string | undefined;
  /** For calling codes several countries share: the leading digits that say it is this country. */
  readonly leadingDigits: RegExp | undefined;
  /** Number types (fixed line, mobile, toll free…): what says a number is this country's when it has no leading digits. */
  readonly types: readonly NumberType[];
}

export interface NumberType {
  readonly pattern: RegExp;
  readonly lengths: readonly number[];
}

/** What libphonenumber's length check says (checkNumberLength). */
export type LengthVerdict = 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';

/** libphonenumber's checkNumberLength for a number of `length` digits against `lengths`. */
export function lengthVerdict(length: number, lengths: readonly number[]): LengthVerdict {
  const min = lengths[0];
  if (min === length) return 'IS_POSSIBLE';
  if (min > length) return 'TOO_SHORT';
  if (lengths[lengths.length - 1] < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

/** The number types getNumberType tries, in its order: fixed line first. */
const TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;

/** The accessors of libphonenumber-js's Metadata that its parser uses (not in its type declarations). */
interface MetadataReader {
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCountry(country: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  hasCallingCode(callingCode: string): boolean;
  IDDPrefix(): string | undefined;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
  numberingPlan: { callingCode(): string; nationalPrefixForParsing(): string | undefined };
}

const reader = new Metadata(metadataJson) as unknown as MetadataReader;
const plans = new Map<string, NumberingPlan | null>();

function compile(country: string): NumberingPlan | null {
  if (!reader.hasCountry(country)) return null;
  reader.selectNumberingPlan(country);
  const lengths = reader.possibleLengths();
  if (!lengths || lengths.length === 0) return null;
  const idd = reader.IDDPrefix();
  const prefix = reader.numberingPlan.nationalPrefixForParsing();
  const leading = reader.leadingDigits();
  const types: NumberType[] = [];
  for (const name of TYPES) {
    // a type without a pattern is never matched (isNumberTypeEqualTo); its lengths default to the plan's
    const t = reader.type(name);
    const pattern = t?.pattern();
    if (!t || !pattern) continue;
    types.push({ pattern: new RegExp(`^(?:${pattern})$`), lengths: t.possibleLengths() ?? lengths });
  }
  return {
    country,
    callingCode: reader.numberingPlan.callingCode(),
    idd: idd ? new RegExp(`^(?:${idd})`) : undefined,
    nationalNumber: new RegExp(`^(?:${reader.nationalNumberPattern()})$`),
    lengths,
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    nationalPrefixTransform: reader.nationalPrefixTransformRule() || undefined,
    leadingDigits: leading ? new RegExp(`^(?:${leading})`) : undefined,
    types,
  };
}

/** The compiled plan of a country (ISO alpha-2 as libphonenumber spells it), or null when it has none. */
export function planOf(country: string): NumberingPlan | null {
  let plan = plans.get(country);
  if (plan === undefined) {
    plan = compile(country);
    plans.set(country, plan);
  }
  return plan;
}

/** The countries of a calling code, main country first; undefined for an unknown or non-geographic code. */
export function countriesOfCallingCode(callingCode: string): readonly string[] | undefined {
  return reader.getCountryCodesForCallingCode(callingCode);
}

/** Whether libphonenumber knows the calling code (a country's or a non-geographic one such as 800). */
export function isCallingCode(callingCode: string): boolean {
  return reader.hasCallingCode(callingCode);
}

/** Per calling code and length: the verdict all its countries agree on, or null when they differ. */
const agreed = new Map<string, (LengthVerdict | null)[]>();

/** Longer than any number callers pass (32 characters at most). */
const MAX_AGREED_LENGTH = 40;

/**
 * The length verdict every country of `callingCode` gives a national number of `length` digits, or
 * undefined when they differ (CA takes 7 digits, the rest of +1 does not): which country of a shared
 * calling code a number is only matters to libphonenumber for its possible lengths, so when they
 * agree that country need not be found.
 */
export function agreedLengthVerdict(callingCode: string, length: number): LengthVerdict | undefined {
  let verdicts = agreed.get(callingCode);
  if (verdicts === undefined) {
    const countryPlans = (countriesOfCallingCode(callingCode) ?? []).map(planOf);
    verdicts = [];
    for (let n = 0; n <= MAX_AGREED_LENGTH; n++) {
      const all = new Set(countryPlans.map((p) => (p ? lengthVerdict(n, p.lengths) : null)));
      verdicts.push(all.size === 1 ? ([...all][0] ?? null) : null);
    }
    agreed.set(callingCode, verdicts);
  }
  return verdicts[length] ?? undefined;
}

/** For tests and benchmarks: compile every plan again on first use. */
export function forgetPlans(): void {
  plans.clear();
  agreed.clear();
}
