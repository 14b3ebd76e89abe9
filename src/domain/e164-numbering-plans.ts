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

/** Longer than any number callers pass (32 characters at most). */
const MAX_TABLE_LENGTH = 40;

/**
 * What libphonenumber asks of a length: `possible` (isPossible: IS_POSSIBLE) or `incomplete`
 * (extractNationalNumber keeps a trunk prefix off unless TOO_SHORT or INVALID_LENGTH).
 */
export type LengthQuestion = 'possible' | 'incomplete';

export function answerOf(question: LengthQuestion, verdict: LengthVerdict): boolean {
  if (question === 'possible') return verdict === 'IS_POSSIBLE';
  return verdict !== 'TOO_SHORT' && verdict !== 'INVALID_LENGTH';
}

/**
 * The countries of one calling code, main first, in the order libphonenumber tries them
 * (getCountryByNationalNumber), and for each question and length: `settled[j]`, the answer every
 * country from the j-th on gives, or null when they differ. Which country of a shared calling code
 * a number is only matters to libphonenumber for its possible lengths, so the search for it stops
 * as soon as the countries left (and the fallback) give the same answer: +1 numbers of 10 digits
 * never look for theirs, 7-digit ones stop after CA.
 */
export interface CallingCodeTable {
  readonly plans: readonly NumberingPlan[];
  readonly settled: Record<LengthQuestion, readonly (readonly (boolean | null)[])[]>;
}

const tables = new Map<string, CallingCodeTable | null>();

function buildTable(callingCode: string): CallingCodeTable | null {
  const plans: NumberingPlan[] = [];
  for (const country of countriesOfCallingCode(callingCode) ?? []) {
    const plan = planOf(country);
    if (!plan) return null; // every country of libphonenumber's metadata has one; if not, ask libphonenumber
    plans.push(plan);
  }
  if (plans.length === 0) return null;
  const settledFor = (question: LengthQuestion) => {
    const byLength: (boolean | null)[][] = [];
    for (let n = 0; n <= MAX_TABLE_LENGTH; n++) {
      const row: (boolean | null)[] = new Array(plans.length);
      let same: boolean | null = answerOf(question, lengthVerdict(n, plans[plans.length - 1].lengths));
      for (let j = plans.length - 1; j >= 0; j--) {
        const answer = answerOf(question, lengthVerdict(n, plans[j].lengths));
        if (same !== answer) same = null;
        row[j] = same;
      }
      byLength.push(row);
    }
    return byLength;
  };
  return { plans, settled: { possible: settledFor('possible'), incomplete: settledFor('incomplete') } };
}

/** The table of a calling code; null for a non-geographic or unknown one. */
export function tableOf(callingCode: string): CallingCodeTable | null {
  let table = tables.get(callingCode);
  if (table === undefined) {
    table = buildTable(callingCode);
    tables.set(callingCode, table);
  }
  return table;
}

/** For tests and benchmarks: compile every plan again on first use. */
export function forgetPlans(): void {
  plans.clear();
  tables.clear();
}
