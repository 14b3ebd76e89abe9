import type { Readable } from 'node:stream';

const NL = 10;
const CR = 13;
const QUOTE = 34;
const HASH = 35;

/**
 * Counts the data records of a CSV file (header, `#` comment lines and blank lines not counted,
 * newlines inside quoted cells not ending a record) in one pass over the bytes, without parsing
 * cells, and stops reading as soon as the count passes `limit`. Used to refuse an oversized import
 * before a single row is applied.
 */
export async function countCsvRecords(
  input: Readable,
  limit: number,
): Promise<{ records: number; exceeded: boolean }> {
  let records = 0;
  let inQuotes = false;
  let lineStart = true;
  let comment = false;
  let lineHasData = false;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (comment) {
          if (b === NL) {
            comment = false;
            lineStart = true;
          }
          continue;
        }
        if (lineStart && !inQuotes) {
          lineStart = false;
          if (b === HASH) {
            comment = true;
            continue;
          }
        }
        if (b === QUOTE) {
          inQuotes = !inQuotes;
          lineHasData = true;
        } else if (b === NL && !inQuotes) {
          if (lineHasData) records++;
          lineHasData = false;
          lineStart = true;
        } else if (b !== CR) {
          lineHasData = true;
        }
      }
      // records includes the header line.
      if (records - 1 > limit) return { records: records - 1, exceeded: true };
    }
    if (lineHasData) records++;
  } finally {
    input.destroy();
  }
  const data = Math.max(0, records - 1);
  return { records: data, exceeded: data > limit };
}
