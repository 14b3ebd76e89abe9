import { isUtf8 } from 'node:buffer';
import { type Readable, Transform } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';
import { cgError } from '../domain/errors.js';
import { MAX_CSV_LINE } from './csv-records.js';
import { scanCsv } from './record-count.js';
import { CsvHeaderError, checkHeader } from './rules-csv.js';

/**
 * Passes bytes through while refusing what is not a text CSV: NUL bytes (binary junk) and invalid
 * UTF-8 (another encoding), with the line where it was found.
 */
export function utf8Guard(): Transform {
  let line = 1;
  let first = true;
  // The first bytes of a character that the chunk before ended inside.
  let carry: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (
        line === 1 &&
        first &&
        chunk.length >= 2 &&
        ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
      ) {
        return done(
          csvInvalid('the file is UTF-16 text (a spreadsheet\'s "Unicode text"); save it as CSV UTF-8'),
        );
      }
      first = false;
      if (chunk.includes(0)) {
        return done(
          csvInvalid(
            `the file holds binary data (a NUL byte near line ${line + countLines(chunk, chunk.indexOf(0))}); a rules file is UTF-8 text`,
          ),
        );
      }
      // Checked without decoding (the readers decode it later): up to the chunk's last whole character.
      const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
      const end = wholeCharacters(bytes);
      if (!isUtf8(bytes.subarray(0, end))) {
        return done(
          csvInvalid(
            `the file is not UTF-8 text (an invalid byte near line ${line + linesBeforeInvalid(bytes.subarray(0, end))}); save it as UTF-8 (with or without BOM)`,
          ),
        );
      }
      carry = end < bytes.length ? Buffer.from(bytes.subarray(end)) : undefined;
      line += countLines(chunk, chunk.length);
      done(null, chunk);
    },
    flush(done) {
      if (carry)
        done(csvInvalid('the file is not UTF-8 text (it ends inside a character); save it as UTF-8'));
      else done();
    },
  });
}

/** The length of `bytes` without a UTF-8 character that its end cuts short (a lead byte and too few continuations). */
function wholeCharacters(bytes: Buffer): number {
  const n = bytes.length;
  let i = n - 1;
  while (i >= 0 && n - i <= 3 && (bytes[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = bytes[i]!;
  // Only a valid lead byte starts a character worth waiting for; anything else fails the check now.
  const length =
    lead >= 0xc2 && lead <= 0xdf
      ? 2
      : lead >= 0xe0 && lead <= 0xef
        ? 3
        : lead >= 0xf0 && lead <= 0xf4
          ? 4
          : 1;
  return length > n - i ? i : n;
}

/**
 * How many whole lines of `bytes` (not UTF-8) come before the line that holds the first invalid byte.
 * A line end is never part of a character, so each line is checked on its own; only a refused
 * file comes here.
 */
function linesBeforeInvalid(bytes: Buffer): number {
  let n = 0;
  for (let from = 0; ; n++) {
    const nl = bytes.indexOf(10, from);
    if (nl === -1 || !isUtf8(bytes.subarray(from, nl))) return n;
    from = nl + 1;
  }
}

function countLines(chunk: Buffer, end: number): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1 && i < end; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

const csvInvalid = (message: string, details?: unknown) => cgError('CG_ERR_CSV_INVALID', message, details);

/** Turns what the CSV reader throws (bad header, a parse error) into the catalogue's error. */
export function asCsvError(error: unknown): Error {
  if (error instanceof CsvHeaderError) return csvInvalid(error.message);
  const e = error as Error & { code?: string; lines?: number };
  if (typeof e.code === 'string' && (e.code.startsWith('CSV_') || e.constructor?.name === 'CsvError')) {
    const where = e.lines ? ` at line ${e.lines}` : '';
    const hint =
      e.code === 'CSV_MAX_RECORD_SIZE'
        ? `a record is longer than ${MAX_CSV_LINE} characters`
        : e.code === 'CSV_QUOTE_NOT_CLOSED'
          ? 'a quoted cell is never closed'
          : e.code === 'INVALID_OPENING_QUOTE'
            ? 'a cell holds a double quote but is not quoted (write it as "a ""quoted"" word")'
            : e.message;
    return csvInvalid(`the file is not a readable CSV${where}: ${hint}`, { code: e.code, line: e.lines });
  }
  return error as Error;
}

/**
 * The first pass over an import file: checks that it is UTF-8 CSV text with a valid header that the
 * parser reads to the end, and counts its records, stopping as soon as there are more than `limit`.
 * Nothing is applied before this passes, so a file that is too large or unreadable imports nothing.
 */
export async function validateImportFile(
  input: Readable,
  limit: number,
): Promise<{ records: number; exceeded: boolean }> {
  const guarded = input.pipe(utf8Guard());
  input.on('error', (e) => guarded.destroy(e));
  let scan: Awaited<ReturnType<typeof scanCsv>>;
  try {
    scan = await scanCsv(guarded, limit);
  } finally {
    input.destroy();
  }
  if (scan.exceeded) return { records: scan.records, exceeded: true };
  if (scan.problem) {
    throw csvInvalid(`the file is not a readable CSV at line ${scan.problem.line}: ${scan.problem.reason}`, {
      line: scan.problem.line,
    });
  }
  if (scan.header.trim() !== '') {
    try {
      const [cells = []] = parseSync(scan.header, { bom: true, relax_column_count: true }) as string[][];
      checkHeader(cells.map((h) => h.trim().toLowerCase()));
    } catch (error) {
      throw asCsvError(error);
    }
  }
  return { records: scan.records, exceeded: false };
}
