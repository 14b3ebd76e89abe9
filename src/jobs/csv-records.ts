import type { Readable } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';

/** Longest line accepted, so a binary or runaway file fails fast instead of filling memory. */
export const MAX_CSV_LINE = 8192;

export interface CsvRecord {
  readonly record: Record<string, string>;
  /** lines: the line the record ends on; cells: how many cells it has (more than the header is an error for the row). */
  readonly info: { readonly lines: number; readonly cells: number };
}

/**
 * Whether a line is a comment line, from its first two character codes (`second` NaN when the line
 * ends after the first): before the header, any line that starts with `#`; after it, a line that is
 * `#` alone or `#` followed by a space, a tab or a carriage return. Numbers hold `#` but never a
 * space, so a row such as `#31#14045551021,block` is data (docs/DECISIONS.md, bulk import). Every
 * reader of a CSV file asks this, so import, its validation and `check --rules` skip the same lines.
 */
export function isCommentLine(first: number, second: number, headerRead: boolean): boolean {
  if (first !== 35 /* # */) return false;
  return (
    !headerRead || Number.isNaN(second) || second === 32 || second === 9 || second === 13 || second === 10
  );
}

/** A record as its cells, in header order, and the line it ends on. */
export interface CsvRow {
  readonly cells: string[];
  readonly line: number;
}

/** An error shaped as csv-parse's (code, lines), so that asCsvError() words both alike. */
function csvError(code: string, message: string, lines: number): Error {
  return Object.assign(new Error(message), { code, lines });
}

/**
 * Parses one complete record's text (quotes balanced) with csv-parse; its errors get the file's line.
 * The lines of a file that hold a double quote go this way; the others are split on commas, which
 * for a line without quotes is the same thing, many times faster.
 */
function parseQuoted(text: string, firstLine: number): string[] {
  try {
    const records = parseSync(text, {
      relax_column_count: true,
      max_record_size: MAX_CSV_LINE,
    }) as string[][];
    return records[0] ?? [''];
  } catch (error) {
    const e = error as Error & { lines?: number };
    if (typeof e.lines === 'number') e.lines = firstLine + e.lines - 1;
    throw e;
  }
}

function quotes(line: string): number {
  let n = 0;
  for (let i = line.indexOf('"'); i !== -1; i = line.indexOf('"', i + 1)) n++;
  return n;
}

/**
 * The one way callguard reads CSV: UTF-8 with or without BOM, CRLF or LF, quoted fields (RFC 4180,
 * line breaks inside quotes kept), comment lines (isCommentLine) and empty lines skipped, header names trimmed
 * and lower-cased and checked by `checkHeader`. Rows come in batches, one per chunk of the source (an
 * await per row would cost more than reading it). Errors of the source stream (a missing file) and of
 * parsing surface from the iteration, with the line.
 */
export async function* csvRows(
  input: Readable,
  checkHeader: (header: string[]) => void,
): AsyncGenerator<CsvRow[]> {
  const decoder = new TextDecoder('utf-8');
  let header: string[] | undefined;
  let rest = '';
  let line = 0;
  let first = true;
  // A quoted record that spans lines: its text so far, the line it starts on and its quote count.
  let open = '';
  let openLine = 0;
  let openQuotes = 0;
  let batch: CsvRow[] = [];

  const emit = (cells: string[], at: number) => {
    if (header === undefined) {
      header = cells.map((h) => h.trim().toLowerCase());
      checkHeader(header);
      return;
    }
    batch.push({ cells, line: at });
  };
  const take = (raw: string) => {
    line++;
    if (open !== '') {
      open += `\n${raw}`;
      openQuotes += quotes(raw);
      if (open.length > MAX_CSV_LINE) {
        throw csvError('CSV_MAX_RECORD_SIZE', 'record too long', openLine);
      }
      if (openQuotes % 2 === 0) {
        emit(parseQuoted(open.endsWith('\r') ? open.slice(0, -1) : open, openLine), line);
        open = '';
      }
      return;
    }
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text === '' || isCommentLine(text.charCodeAt(0), text.charCodeAt(1), header !== undefined)) return;
    if (text.length > MAX_CSV_LINE) throw csvError('CSV_MAX_RECORD_SIZE', 'record too long', line);
    if (text.indexOf('"') === -1) {
      emit(text.split(','), line);
      return;
    }
    const n = quotes(raw);
    if (n % 2 === 0) {
      emit(parseQuoted(text, line), line);
      return;
    }
    open = raw;
    openLine = line;
    openQuotes = n;
  };

  try {
    for await (const chunk of input) {
      let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Buffer, { stream: true });
      if (first && text !== '') {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      text = rest + text;
      let from = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
        take(text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
      if (rest.length > MAX_CSV_LINE) {
        throw csvError('CSV_MAX_RECORD_SIZE', 'record too long', open === '' ? line + 1 : openLine);
      }
      if (batch.length > 0) {
        const out = batch;
        batch = [];
        yield out;
      }
    }
    rest += decoder.decode();
    if (rest !== '') take(rest);
    if (open !== '') parseQuoted(open, openLine);
    if (batch.length > 0) yield batch;
  } finally {
    input.destroy();
  }
}

/** csvRows() with each row keyed by the header's names (cells beyond the header are counted, not kept). */
export async function* csvRecords(
  input: Readable,
  checkHeader: (header: string[]) => void,
): AsyncGenerator<CsvRecord[]> {
  let header: string[] = [];
  for await (const rows of csvRows(input, (h) => {
    header = h;
    checkHeader(h);
  })) {
    yield rows.map(({ cells, line }) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < header.length && i < cells.length; i++) record[header[i]!] = cells[i]!;
      return { record, info: { lines: line, cells: cells.length } };
    });
  }
}
