import type { NormalizationPolicy } from '../domain/number.js';
import { MAX_NUMBER_LENGTH, normalizeNumber } from '../domain/number.js';
import type { Rule } from '../domain/rule.js';
import { expiresAtFor } from '../domain/validity.js';

/**
 * The fast path of the rules-file reader (rules-csv.ts) for the rows a large file is made of: ids
 * and numbers of plain digits, names and remarks of plain text, a validity in plain words (or
 * none), no expiry instant or calling country. Such a row becomes the rule that the full path (trim, formula mark, schema, toRule) would
 * make, read straight from the cells; any other row gives undefined and goes the full path, which also
 * words every error. test/jobs/plain-row.test.ts holds both paths equal over generated files.
 */

/** Where the columns the fast path reads sit in a row (-1: the file has no such column). */
export interface PlainColumns {
  readonly id: number;
  readonly called: number;
  readonly calling: number;
  readonly direction: number;
  readonly action: number;
  /** The name columns as [cell index, rule field]. */
  readonly names: ReadonlyArray<readonly [number, NameField]>;
  readonly remarks: number;
  readonly validityValue: number;
  readonly validityUnit: number;
  /** Columns a plain row leaves blank (calling country, instants). */
  readonly blank: readonly number[];
}

type NameField = 'groupId' | 'typeId' | 'ou' | 'sbc' | 'provider' | 'customerGroup' | 'user';

/** The columns of a rule's plain names, with the rule field each fills. */
export const NAME_COLUMNS = [
  ['group', 'groupId'],
  ['type', 'typeId'],
  ['ou', 'ou'],
  ['sbc', 'sbc'],
  ['provider', 'provider'],
  ['customer_group', 'customerGroup'],
  ['user', 'user'],
] as const satisfies ReadonlyArray<readonly [string, NameField]>;
const BLANK_COLUMNS = ['calling_country', 'expires_at', 'created_at'];
const UNITS = new Set(['hour', 'day', 'month', 'year']);

/** The column positions of a checked header (lower-cased names). */
export function plainColumns(header: readonly string[]): PlainColumns {
  const at = (c: string) => header.indexOf(c);
  return {
    id: at('id'),
    called: at('called'),
    calling: at('calling'),
    direction: at('direction'),
    action: at('action'),
    names: NAME_COLUMNS.map(([c, f]) => [at(c), f] as const).filter(([i]) => i >= 0),
    remarks: at('remarks'),
    validityValue: at('validity_value'),
    validityUnit: at('validity_unit'),
    blank: BLANK_COLUMNS.map(at).filter((i) => i >= 0),
  };
}

/** A cell as read ('' when the column is missing or the row is short). */
const raw = (cells: readonly string[], at: number): string => (at < 0 ? '' : (cells[at] ?? ''));

/** 1 to `max` characters 0-9. */
function digits(v: string, max: number): boolean {
  const n = v.length;
  if (n === 0 || n > max) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * A name the full path keeps as it is: no blank or formula mark to strip at either end (printable
 * ASCII there, not `'` first), at most 128 characters, no control character (\p{Cc}).
 */
function plainName(v: string): boolean {
  const n = v.length;
  if (n > 128) return false;
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(n - 1);
  if (first <= 32 || first >= 127 || first === 39 || last <= 32 || last >= 127) return false;
  for (let i = 1; i < n - 1; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || (c >= 127 && c <= 159)) return false;
  }
  return true;
}

/** A number cell of plain digits as the rule stores it; undefined when the full path should read it. */
function plainNumber(v: string, policy: NormalizationPolicy): string | undefined {
  if (!digits(v, MAX_NUMBER_LENGTH)) return undefined;
  if (policy.mode === 'digits') return v;
  try {
    return normalizeNumber(v, policy);
  } catch {
    return undefined;
  }
}

/** What the fast path reads a file with: its columns, the tenant's number policy and the read's time. */
export interface PlainReading {
  readonly columns: PlainColumns;
  readonly policy: NormalizationPolicy;
  /** The time validities count from; rules are written at its whole second. */
  readonly now: number;
  /** Expiry per validity ("30 day"): the same for every row of the file. */
  readonly expiries: Map<string, number>;
  /** One string per distinct name (a file has a few dozen groups, not a million). */
  readonly names: Map<string, string>;
}

/** Most distinct names held for sharing; past this a name is kept as read. */
const SHARED_NAMES = 4096;

/** The one copy of a name: a million rules then hold a few dozen strings instead of a million. */
function shared(v: string, r: PlainReading): string {
  const known = r.names.get(v);
  if (known !== undefined) return known;
  if (r.names.size < SHARED_NAMES) r.names.set(v, v);
  return v;
}

export const plainReading = (
  header: readonly string[],
  policy: NormalizationPolicy,
  now: number,
): PlainReading => ({ columns: plainColumns(header), policy, now, expiries: new Map(), names: new Map() });

/** The expiry of a plain validity (1-120 and a unit in lower case); null: none; undefined: not plain. */
function plainExpiry(cells: readonly string[], r: PlainReading): number | null | undefined {
  const value = raw(cells, r.columns.validityValue);
  const unit = raw(cells, r.columns.validityUnit);
  if (value === '' && unit === '') return null;
  if (!digits(value, 3) || !UNITS.has(unit)) return undefined;
  const n = Number(value);
  if (n < 1 || n > 120) return undefined;
  const key = `${n} ${unit}`;
  let at = r.expiries.get(key);
  if (at === undefined) {
    at = expiresAtFor({ value: n, unit: unit as 'hour' | 'day' | 'month' | 'year' }, r.now);
    r.expiries.set(key, at);
  }
  return at;
}

/**
 * The row's rule, or undefined when the row is not plain (the full path then reads it). `dataRow` is
 * the id of a row without one.
 */
export function plainRule(cells: readonly string[], r: PlainReading, dataRow: number): Rule | undefined {
  const c = r.columns;
  const policy = r.policy;
  for (let i = 0; i < c.blank.length; i++) if (raw(cells, c.blank[i]!) !== '') return undefined;
  const expiresAt = plainExpiry(cells, r);
  if (expiresAt === undefined) return undefined;
  const rawId = raw(cells, c.id);
  let id = dataRow;
  if (rawId !== '') {
    if (!digits(rawId, 10)) return undefined;
    id = Number(rawId);
  }
  if (id < 1 || id > 0xffff_ffff) return undefined;
  const rawCalled = raw(cells, c.called);
  const rawCalling = raw(cells, c.calling);
  if (rawCalled === '' && rawCalling === '') return undefined;
  const called = rawCalled === '' ? undefined : plainNumber(rawCalled, policy);
  if (called === undefined && rawCalled !== '') return undefined;
  const calling = rawCalling === '' ? undefined : plainNumber(rawCalling, policy);
  if (calling === undefined && rawCalling !== '') return undefined;
  // The constants, not the cells: a million rules then share two strings instead of holding their own.
  const d = raw(cells, c.direction);
  const direction =
    d === '' || d === 'both'
      ? 'both'
      : d === 'outbound'
        ? 'outbound'
        : d === 'inbound'
          ? 'inbound'
          : undefined;
  if (direction === undefined) return undefined;
  const a = raw(cells, c.action);
  const action = a === '' || a === 'block' ? 'block' : a === 'allow' ? 'allow' : undefined;
  if (action === undefined) return undefined;
  const remarks = raw(cells, c.remarks);
  if (remarks.length > 1024 || remarks.charCodeAt(0) === 39) return undefined;
  for (let i = 0; i < c.names.length; i++) {
    const v = raw(cells, c.names[i]![0]);
    if (v !== '' && !plainName(v)) return undefined;
  }
  // Fields in toRule()'s order.
  const rule: Rule = { id, direction, action, updatedAt: Math.floor(r.now / 1000) * 1000 };
  if (called !== undefined) rule.called = called;
  if (calling !== undefined) rule.calling = calling;
  for (let i = 0; i < c.names.length; i++) {
    const [at, field] = c.names[i]!;
    const v = raw(cells, at);
    if (v !== '') rule[field] = shared(v, r);
  }
  if (remarks !== '') rule.remarks = remarks;
  if (expiresAt !== null) rule.expiresAt = expiresAt;
  return rule;
}
