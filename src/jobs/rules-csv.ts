import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { NormalizationPolicy } from '../domain/number.js';
import type { Rule } from '../domain/rule.js';
import { RuleInputError, ruleInputSchema, toRule } from '../domain/rule-input.js';
import { restoreCell } from './csv-cells.js';
import { csvRows } from './csv-records.js';
import { NAME_COLUMNS, type PlainReading, plainReading, plainRule } from './plain-row.js';
import { WithinFileChecks } from './within-file-checks.js';

/** The columns of a rules file (the import template), in template order. */
export const RULES_CSV_COLUMNS = [
  'id',
  'called',
  'calling',
  'direction',
  'action',
  'group',
  'type',
  'ou',
  'sbc',
  'provider',
  'customer_group',
  'user',
  'calling_country',
  'validity_value',
  'validity_unit',
  'remarks',
] as const;
/** The columns an export writes: the template's, then when the rule was written and when it expires. */
export const EXPORT_COLUMNS = [...RULES_CSV_COLUMNS, 'created_at', 'expires_at'] as const;
/** The columns an import accepts (in any order): the export's, so that an export imports as it is. */
export const IMPORT_COLUMNS: readonly string[] = EXPORT_COLUMNS;
export type RulesCsvColumn = (typeof EXPORT_COLUMNS)[number];

const FIELD_OF_COLUMN: Record<string, RulesCsvColumn> = {
  groupId: 'group',
  typeId: 'type',
  customerGroup: 'customer_group',
  callingCountry: 'calling_country',
  validity: 'validity_value',
};

export interface RowError {
  readonly line: number;
  readonly column: string;
  readonly reason: string;
}

export type RulesCsvRow =
  | { readonly line: number; readonly rule: Rule }
  | { readonly line: number; readonly error: RowError };

export class CsvHeaderError extends Error {}

/** A row the schema refused, with the column and reason to report. */
class RowSchemaError extends Error {
  constructor(readonly issue: { column: string; reason: string }) {
    super(issue.reason);
  }
}

/** Throws CsvHeaderError for a header import does not accept, naming what it does accept. */
export function checkHeader(header: string[]): void {
  // A carriage return inside the header: the lines end with CR alone (as "CSV (Macintosh)" saves),
  // so the whole file reads as one line.
  if (header.some((c) => c.includes('\r'))) {
    throw new CsvHeaderError(
      'the lines of this file end with a carriage return alone (as "CSV (Macintosh)" saves them); save it with LF or CRLF line ends',
    );
  }
  const unknown = header.filter((c) => !IMPORT_COLUMNS.includes(c));
  if (unknown.length > 0) {
    throw new CsvHeaderError(
      `unknown column(s) ${unknown.map((c) => JSON.stringify(c)).join(', ')}; accepted columns: ${IMPORT_COLUMNS.join(',')}`,
    );
  }
  if (!header.includes('called') && !header.includes('calling')) {
    throw new CsvHeaderError(
      `the header needs a called or a calling column; accepted columns: ${IMPORT_COLUMNS.join(',')}`,
    );
  }
  const seen = new Set<string>();
  for (const c of header) {
    if (seen.has(c)) throw new CsvHeaderError(`column "${c}" appears twice in the header`);
    seen.add(c);
  }
}

/** A row's raw cell by column name (undefined: the file has no such column, or the row is short). */
type RawCell = (column: RulesCsvColumn) => string | undefined;

/** A cell's value: the export's formula mark undone, trimmed; undefined when blank. */
const cell = (row: RawCell, column: RulesCsvColumn): string | undefined => {
  const raw = row(column);
  if (raw === undefined) return undefined;
  const v = restoreCell(raw).trim();
  return v === '' ? undefined : v;
};

/** An instant as export writes it (ISO 8601 in UTC, or with an offset). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;

function instantOf(row: RawCell, column: 'expires_at' | 'created_at'): number | undefined {
  const v = cell(row, column);
  if (v === undefined) return undefined;
  const ms = INSTANT.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > 0xffff_ffff * 1000) {
    throw new RuleInputError(column, `"${v}" is not an instant such as 2026-12-31T23:59:59Z`);
  }
  return ms;
}

function inputOf(row: RawCell) {
  const value = cell(row, 'validity_value');
  const unit = cell(row, 'validity_unit');
  if ((value === undefined) !== (unit === undefined)) {
    throw new RuleInputError(
      'validity_value',
      'validity_value and validity_unit go together: give both or neither',
    );
  }
  if (value !== undefined && cell(row, 'expires_at') !== undefined) {
    throw new RuleInputError(
      'expires_at',
      'give expires_at (an instant) or validity_value and validity_unit (from now), not both',
    );
  }
  return {
    called: cell(row, 'called'),
    calling: cell(row, 'calling'),
    direction: cell(row, 'direction')?.toLowerCase(),
    action: cell(row, 'action')?.toLowerCase(),
    groupId: cell(row, 'group'),
    typeId: cell(row, 'type'),
    ou: cell(row, 'ou'),
    sbc: cell(row, 'sbc'),
    provider: cell(row, 'provider'),
    customerGroup: cell(row, 'customer_group'),
    user: cell(row, 'user'),
    callingCountry: cell(row, 'calling_country'),
    validity:
      value === undefined
        ? undefined
        : { value: /^\d+$/.test(value) ? Number(value) : Number.NaN, unit: unit?.toLowerCase() },
    remarks: remarksOf(row),
  };
}

function remarksOf(row: RawCell): string | undefined {
  const raw = row('remarks');
  return raw === undefined || raw === '' ? undefined : restoreCell(raw);
}

const DIRECTIONS = new Set(['inbound', 'outbound', 'both']);
const ACTIONS = new Set(['block', 'allow']);
const CONTROL = /\p{Cc}/u;

/**
 * The common row (no validity, no calling country, values of the usual shape) checked without the
 * schema, with the same limits: a name is at most 128 characters without control characters, a
 * number or pattern at most 64, remarks at most 1024, direction and action from their lists. Anything
 * else (undefined) goes through ruleInputSchema, which words the error. Numbers and patterns are
 * parsed by toRule() on both paths.
 */
function plainInput(row: RawCell): z.output<typeof ruleInputSchema> | undefined {
  if (cell(row, 'validity_value') !== undefined || cell(row, 'validity_unit') !== undefined) return undefined;
  if (cell(row, 'calling_country') !== undefined) return undefined;
  const called = cell(row, 'called');
  const calling = cell(row, 'calling');
  if ((called !== undefined && called.length > 64) || (calling !== undefined && calling.length > 64))
    return undefined;
  const direction = cell(row, 'direction')?.toLowerCase() ?? 'both';
  const action = cell(row, 'action')?.toLowerCase() ?? 'block';
  if (!DIRECTIONS.has(direction) || !ACTIONS.has(action)) return undefined;
  const input: Record<string, unknown> = { direction, action };
  if (called !== undefined) input.called = called;
  if (calling !== undefined) input.calling = calling;
  for (const [column, field] of NAME_COLUMNS) {
    const v = cell(row, column);
    if (v === undefined) continue;
    if (v.length > 128 || CONTROL.test(v)) return undefined;
    input[field] = v;
  }
  const remarks = remarksOf(row);
  if (remarks !== undefined) {
    if (remarks.length > 1024) return undefined;
    input.remarks = remarks;
  }
  return input as z.output<typeof ruleInputSchema>;
}

function describeIssue(issue: z.core.$ZodIssue): { column: string; reason: string } {
  const field = String(issue.path[0] ?? 'row');
  const column = FIELD_OF_COLUMN[field] ?? field;
  if (field === 'validity')
    return {
      column: issue.path[1] === 'unit' ? 'validity_unit' : 'validity_value',
      reason:
        issue.path[1] === 'unit'
          ? 'must be hour, day, month or year'
          : 'must be a whole number from 1 to 120',
    };
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return { column, reason: `must be one of ${(issue.values as unknown[]).join(', ')}` };
  }
  return { column, reason: issue.message };
}

/**
 * Streams a rules file (UTF-8 with or without BOM, CRLF or LF, quoted fields). Yields the data rows in batches, each
 * row a rule or an error with its line number, column and reason; good rows are never held back by bad
 * ones. Rows without an id get the number of their data row. A second rule with identical conditions
 * is reported, not loaded. A bad header throws CsvHeaderError before any row.
 * `withinFile: false` drops the id and duplicate checks across rows (and their memory, which grows
 * with the file): bulk imports leave duplicates to the store's duplicate mode.
 */
export async function* readRulesCsv(
  input: Readable,
  options: {
    policy: NormalizationPolicy;
    now: number;
    withinFile?: boolean;
    /** false: every row through the schema (the reference the fast paths are tested against). */
    fastPaths?: boolean;
  },
): AsyncGenerator<RulesCsvRow[]> {
  const withinFile = options.withinFile ?? true;
  const fastPaths = options.fastPaths ?? true;
  let headerWidth = 0;
  let columnAt: Partial<Record<string, number>> = {};
  let plain: PlainReading | undefined;
  // The row being read, and one accessor over it (not a closure per row).
  let current: string[] = [];
  const record: RawCell = (column) => {
    const at = columnAt[column];
    return at === undefined ? undefined : current[at];
  };
  const records = csvRows(input, (header) => {
    checkHeader(header);
    headerWidth = header.length;
    columnAt = Object.fromEntries(header.map((c, i) => [c, i]));
    if (fastPaths) plain = plainReading(header, options.policy, options.now);
  });
  const checks = withinFile ? new WithinFileChecks() : undefined;
  let dataRow = 0;
  for await (const batch of records) {
    const rows: RulesCsvRow[] = [];
    for (const { cells, line } of batch) {
      dataRow++;
      rows.push(
        cells.length > headerWidth
          ? {
              line,
              error: {
                line,
                column: 'row',
                reason: `${cells.length} cells, but the header names ${headerWidth} columns`,
              },
            }
          : readRow(cells, line, dataRow),
      );
    }
    yield rows;
  }

  function readRow(cells: string[], line: number, dataRow: number): RulesCsvRow {
    try {
      const rule = (plain && plainRule(cells, plain, dataRow)) ?? fullRule(cells, dataRow);
      checks?.accept(rule, line);
      return { line, rule };
    } catch (error) {
      if (error instanceof RowSchemaError) return { line, error: { line, ...error.issue } };
      if (!(error instanceof RuleInputError)) throw error;
      return {
        line,
        error: { line, column: FIELD_OF_COLUMN[error.field] ?? error.field, reason: error.message },
      };
    }
  }

  /** A row through trimming, the formula mark, the schema and toRule(); throws what is wrong with it. */
  function fullRule(cells: string[], dataRow: number): Rule {
    current = cells;
    const rawId = cell(record, 'id');
    if (rawId !== undefined && !/^\d{1,10}$/.test(rawId)) {
      throw new RuleInputError('id', `"${rawId}" is not a whole number from 1 to 4294967295`);
    }
    const id = rawId === undefined ? dataRow : Number(rawId);
    let input = fastPaths ? plainInput(record) : undefined;
    if (input === undefined) {
      const parsed = ruleInputSchema.safeParse(inputOf(record));
      if (!parsed.success) throw new RowSchemaError(describeIssue(parsed.error.issues[0]));
      input = parsed.data;
    }
    const rule = toRule(input, { id, policy: options.policy, now: options.now });
    const expiresAt = instantOf(record, 'expires_at');
    instantOf(record, 'created_at');
    if (expiresAt !== undefined) rule.expiresAt = Math.floor(expiresAt / 1000) * 1000;
    return rule;
  }
}
