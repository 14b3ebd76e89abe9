import type { Readable } from 'node:stream';
import { isCommentLine, MAX_CSV_LINE } from './csv-records.js';

const NL = 10;
const CR = 13;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface CsvScan {
  /** Data records (header, `#` comment lines and blank lines not counted). */
  readonly records: number;
  readonly exceeded: boolean;
  /** The header line's bytes (the first record; no BOM, comment or blank line before it), for the header check. */
  readonly header: string;
  /** What makes the file unreadable as CSV, with its line; undefined when it reads. */
  readonly problem?: { readonly line: number; readonly reason: string };
}

/**
 * One pass over a CSV file's bytes, without building cells: counts its records and finds what would
 * stop the CSV parser half-way (a record longer than MAX_CSV_LINE characters, a quote inside an
 * unquoted cell, text after a closing quote, a quoted cell never closed) with the line it is on, in
 * the same strict RFC 4180 terms as csv-records.ts reads it. Stops as soon as the count passes
 * `limit`. This is what lets an import refuse a bad or oversized file before applying a single row,
 * at a small fraction of the cost of parsing it twice.
 */
export async function scanCsv(
  input: Readable,
  limit: number,
  /** false: every byte through the state machine (what the quick path is tested against). */
  quick = true,
): Promise<CsvScan> {
  let records = 0;
  let line = 1;
  let recordStartLine = 1;
  // Field states: 0 start of a field, 1 unquoted, 2 quoted, 3 just after a quote inside a quoted field.
  let state = 0;
  let lineStart = true;
  let comment = false;
  // A `#` that starts a line: read as data until the byte after it says whether the line is a comment.
  let hash = false;
  let hasData = false;
  let length = 0;
  const headerBytes: Buffer[] = [];
  let headerDone = false;
  /** Where, in the current chunk, the header may start (after the last comment or blank line before it). */
  let headerFrom = 0;
  /** `next` follows the `#` that opened the line: on a comment line, the `#` read as data is undone. */
  const decideHash = (next: number) => {
    hash = false;
    if (isCommentLine(HASH, next, headerDone)) {
      state = 0;
      hasData = false;
      length = 0;
      comment = true;
    }
  };
  /** A comment or blank line ended at `i`: the header, not read yet, starts after it. */
  const notHeader = (i: number) => {
    if (headerDone) return;
    headerBytes.length = 0;
    headerFrom = i + 1;
  };
  const fail = (reason: string, at = line): CsvScan => ({
    records,
    exceeded: false,
    header: Buffer.concat(headerBytes).toString('utf8'),
    problem: { line: at, reason },
  });
  /**
   * A chunk without a double quote, read while no quoted cell or comment is open: its records are its
   * lines that hold more than line-end bytes, found with indexOf instead of byte by byte. Gives up
   * (false, nothing changed) on a line that starts with `#` (the byte loop decides whether it is a
   * comment), or a line whose bytes pass the length limit (the byte loop then counts its characters).
   */
  const quickChunk = (chunk: Buffer): boolean => {
    if (chunk.indexOf(QUOTE) !== -1) return false;
    let recs = 0;
    let lines = 0;
    let len = length;
    let data = hasData;
    let st = state;
    let ls = lineStart;
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, from);
      const end = nl === -1 ? chunk.length : nl;
      if (end > from) {
        if (ls && !data && chunk[from] === HASH) return false;
        ls = false;
        len += end - from;
        if (len > MAX_CSV_LINE) return false;
        let last = end - 1;
        while (last >= from && chunk[last] === CR) last--;
        if (last >= from) {
          data = true;
          st = chunk[last] === COMMA ? 0 : 1;
        }
      }
      if (nl === -1) {
        if (end > from) {
          // The open line's characters so far, exactly (the bytes were only a bound).
          len -= end - from;
          for (let i = from; i < end; i++) if ((chunk[i]! & 0xc0) !== 0x80) len++;
        }
        break;
      }
      if (data) recs++;
      lines++;
      data = false;
      len = 0;
      ls = true;
      st = 0;
      from = nl + 1;
    }
    records += recs;
    line += lines;
    if (lines > 0) recordStartLine = line;
    hasData = data;
    length = len;
    state = st;
    lineStart = ls;
    return true;
  };
  try {
    for await (const chunk of withoutBom(input as AsyncIterable<Buffer>)) {
      if (quick && headerDone && !comment && !hash && (state === 0 || state === 1) && quickChunk(chunk)) {
        if (records - 1 > limit) {
          return {
            records: records - 1,
            exceeded: true,
            header: Buffer.concat(headerBytes).toString('utf8'),
          };
        }
        continue;
      }
      let headerEnd = -1;
      headerFrom = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (hash) decideHash(b);
        if (comment) {
          if (b === NL) {
            comment = false;
            lineStart = true;
            line++;
            recordStartLine = line;
            notHeader(i);
          }
          continue;
        }
        if (lineStart && b === HASH) hash = true;
        lineStart = false;
        // Characters, not bytes: UTF-8 continuation bytes do not count.
        if ((b & 0xc0) !== 0x80) length++;
        if (state === 2) {
          if (b === QUOTE) state = 3;
          else if (b === NL) line++;
        } else if (state === 3) {
          if (b === QUOTE) state = 2;
          else if (b === COMMA) state = 0;
          else if (b === NL || b === CR) {
            if (b === NL) {
              state = 0;
              records++;
              if (!headerDone) {
                headerDone = true;
                headerEnd = i;
              }
              hasData = false;
              length = 0;
              lineStart = true;
              line++;
              recordStartLine = line;
            } else state = 4;
          } else return fail('text after the closing quote of a cell (quote the whole cell)');
        } else if (b === NL) {
          if (hasData) {
            records++;
            if (!headerDone) {
              headerDone = true;
              headerEnd = i;
            }
          } else notHeader(i);
          state = 0;
          hasData = false;
          length = 0;
          lineStart = true;
          line++;
          recordStartLine = line;
        } else if (b === CR) {
          // part of a line end
        } else if (b === QUOTE) {
          if (state !== 0) {
            return fail('a cell holds a double quote but is not quoted (write it as "a ""quoted"" word")');
          }
          state = 2;
          hasData = true;
        } else if (b === COMMA) {
          state = 0;
          hasData = true;
        } else {
          if (state === 4) return fail('text after the closing quote of a cell (quote the whole cell)');
          state = state === 0 ? 1 : state;
          hasData = true;
        }
        if (length > MAX_CSV_LINE) {
          return fail(`a record is longer than ${MAX_CSV_LINE} characters`, recordStartLine);
        }
      }
      if (!headerDone) headerBytes.push(chunk.subarray(headerFrom));
      else if (headerEnd >= 0) headerBytes.push(chunk.subarray(headerFrom, headerEnd));
      // The header is a record too.
      if (records - 1 > limit) {
        return { records: records - 1, exceeded: true, header: Buffer.concat(headerBytes).toString('utf8') };
      }
    }
    if (state === 2) return fail('a quoted cell is never closed', recordStartLine);
    if (hash) decideHash(Number.NaN);
    if (comment && !headerDone) headerBytes.length = 0;
    if (hasData || state === 3) records++;
  } finally {
    input.destroy();
  }
  const data = Math.max(0, records - 1);
  return { records: data, exceeded: data > limit, header: Buffer.concat(headerBytes).toString('utf8') };
}

/** The chunks of `input` without the UTF-8 BOM that may open it (a comment line may follow the BOM). */
async function* withoutBom(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of input) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length >= BOM.length) {
      yield head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      head = undefined;
    }
  }
  if (head !== undefined && head.length > 0) yield head;
}
