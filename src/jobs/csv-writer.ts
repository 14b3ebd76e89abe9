import { type Options, type Stringifier, stringify as stringifyStream } from 'csv-stringify';
import { stringify } from 'csv-stringify/sync';
import { neutraliseCell } from './csv-cells.js';

/**
 * Every CSV callguard writes (exports, import error files, the CLI's batch check) goes through
 * csv-stringify: RFC 4180 quoting (a cell with `,`, `"`, CR or LF is quoted) and, in files (CRLF line
 * ends) that a person may open in a spreadsheet, each cell neutralised by
 * neutraliseCell() — the mark that the import's restoreCell() takes off again. csv-stringify's own
 * `escape_formulas` is not used: it leaves a cell starting with `'` as it is, so an import could not
 * tell its mark from the text's own quote and the export/import round trip would not be lossless.
 */
const neutralised: Options = { cast: { string: (value: string) => neutraliseCell(value) } };
// A cell holding a CR or an LF alone is quoted too, not only one holding the CRLF that ends a record.
const FILE: Options = { ...neutralised, record_delimiter: '\r\n', quote_record_delimiter: true };

/**
 * A cell csv-stringify would write as it is: no character that needs quoting and no first character
 * that neutraliseCell() marks. Most cells of an export (ids, digits, names, instants) are such.
 */
const PLAIN = /^(?:[^=+\-@\t\r'",\n][^",\r\n]*)?$/;

/**
 * CSV lines of rows of text cells, neutralised, each line ending in CRLF. A row of plain cells is
 * joined as it is (csv-stringify would write the same bytes at five times the CPU; an export writes
 * millions); any other row goes through csv-stringify.
 */
export function csvRows(rows: ReadonlyArray<readonly string[]>): string {
  let text = '';
  for (const row of rows) {
    text += row.every((cell) => PLAIN.test(cell))
      ? `${row.join(',')}\r\n`
      : stringify([row as string[]], FILE);
  }
  return text;
}

/** One CSV line (cells neutralised), ending in CRLF. */
export const csvLine = (cells: readonly string[]): string => csvRows([cells]);

/** A cell that needs no quoting (data output, not neutralised). */
const UNQUOTED = /^[^",\r\n]*$/;
const DATA: Options = { record_delimiter: '\n', quote_record_delimiter: true };

/** Whether csvDataLine writes this cell as it is: a line of such cells is the cells joined by commas. */
export const plainDataCell = (cell: string): boolean => UNQUOTED.test(cell);

/**
 * One CSV line of data output (an API answer, a terminal): cells as they are (a number such as
 * `+1404…` comes back as it was sent), quoted where RFC 4180 needs it, ending in LF.
 */
export function csvDataLine(cells: readonly string[]): string {
  return cells.every(plainDataCell) ? `${cells.join(',')}\n` : stringify([cells as string[]], DATA);
}

/**
 * A streaming writer with a header of `columns` for a terminal or a pipe (the CLI's data output): rows
 * go in as arrays in that order, lines end in LF, cells are written as they are unless `neutralise`.
 */
export function csvStream(columns: readonly string[], options: { neutralise?: boolean } = {}): Stringifier {
  return stringifyStream({ ...(options.neutralise ? neutralised : {}), header: true, columns: [...columns] });
}
