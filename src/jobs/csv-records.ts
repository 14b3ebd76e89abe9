import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';

/** Longest line accepted, so a binary or runaway file fails fast instead of filling memory. */
export const MAX_CSV_LINE = 8192;

export interface CsvRecord {
  readonly record: Record<string, string>;
  /** lines: the line the record ends on; cells: how many cells it has (more than the header is an error for the row). */
  readonly info: { readonly lines: number; readonly cells: number };
}

/**
 * The one way callguard reads CSV: UTF-8 with or without BOM, CRLF or LF, quoted fields, `#` comment
 * lines, header names trimmed and lower-cased and checked by `checkHeader`. Records come in batches of
 * what the parser has ready (an await per record would cost more than parsing it). Errors of the
 * source stream (a missing file) and of parsing surface from the iteration.
 */
export async function* csvRecords(
  input: Readable,
  checkHeader: (header: string[]) => void,
): AsyncGenerator<CsvRecord[]> {
  // Rows come as arrays and are keyed here: csv-parse's own column objects cost a defineProperty per cell.
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    comment: '#',
    comment_no_infix: true,
    relax_column_count: true,
    max_record_size: MAX_CSV_LINE,
    info: true,
  });
  let failure: Error | undefined;
  let ended = false;
  input.on('error', (error) => parser.destroy(error));
  parser.on('error', (error) => {
    failure = error;
  });
  parser.on('end', () => {
    ended = true;
  });
  input.pipe(parser);
  let header: string[] | undefined;
  try {
    for (;;) {
      const batch: CsvRecord[] = [];
      for (let r = parser.read(); r !== null; r = parser.read()) {
        const { record: cells, info } = r as { record: string[]; info: { lines: number } };
        if (header === undefined) {
          header = cells.map((h) => h.trim().toLowerCase());
          checkHeader(header);
          continue;
        }
        const record: Record<string, string> = {};
        for (let i = 0; i < header.length && i < cells.length; i++) record[header[i]] = cells[i];
        batch.push({ record, info: { lines: info.lines, cells: cells.length } });
      }
      if (failure) throw failure;
      if (batch.length > 0) yield batch;
      if (ended) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          parser.off('readable', done);
          parser.off('end', done);
          parser.off('error', done);
          resolve();
        };
        parser.on('readable', done);
        parser.on('end', done);
        parser.on('error', done);
      });
    }
  } finally {
    if (!ended) {
      input.unpipe(parser);
      input.destroy();
      parser.destroy();
    }
  }
}
