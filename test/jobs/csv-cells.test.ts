import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { neutraliseCell, restoreCell } from '../../src/jobs/csv-cells.js';
import { csvRows } from '../../src/jobs/csv-records.js';

const tricky = fc.constantFrom(
  ',',
  '"',
  "'",
  '\n',
  '\r\n',
  '=',
  '+',
  '-',
  '@',
  '\t',
  ' ',
  '#',
  'é',
  '🙂',
  'a',
  '1',
);
const text = fc.string({
  unit: fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 1 })),
  maxLength: 12,
});

/** A CSV file as a writer would produce it: RFC 4180 quoting where a cell needs it. */
const quote = (v: string) => (/[",\r\n]/.test(v) || v.startsWith('#') ? `"${v.replaceAll('"', '""')}"` : v);

async function readAll(csv: string, chunk: number): Promise<{ header: string[]; rows: string[][] }> {
  // Chunks of bytes, as a file or socket gives them (a character may straddle two).
  const bytes = Buffer.from(csv);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  let header: string[] = [];
  const rows: string[][] = [];
  for await (const batch of csvRows(Readable.from(parts), (h) => {
    header = h;
  }))
    for (const r of batch) rows.push(r.cells);
  return { header, rows };
}

describe('CSV cells', () => {
  it('restoreCell undoes neutraliseCell for any text', () => {
    fc.assert(
      fc.property(text, (v) => {
        assert.equal(restoreCell(neutraliseCell(v)), v);
      }),
      { numRuns: 2000 },
    );
  });

  it('a hand-written leading quote that is not a mark is kept', () => {
    assert.equal(restoreCell("'hello"), "'hello");
    assert.equal(restoreCell("'=1+2"), '=1+2');
    assert.equal(restoreCell("''x"), "'x");
  });

  it('csvRows reads what csv-parse reads, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            text.filter((s) => s !== ''),
            { minLength: 1, maxLength: 4 },
          ),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom('\n', '\r\n'),
        async (records, chunk, eol) => {
          const csv = `a,b,c,d${eol}${records.map((r) => r.map(quote).join(',')).join(eol)}${eol}`;
          const expected = parse(csv, { relax_column_count: true, skip_empty_lines: true }) as string[][];
          const { header, rows } = await readAll(csv, chunk);
          assert.deepEqual([header, ...rows], expected);
        },
      ),
      { numRuns: 300, seed: 18 },
    );
  });

  it('an unclosed quote and a stray quote fail with their line', async () => {
    await assert.rejects(readAll('a,b\n1,"open\n2,x\n', 5), (e: Error & { lines?: number }) => {
      return (
        (e as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED' && e.lines !== undefined && e.lines >= 2
      );
    });
    await assert.rejects(readAll('a,b\n1,x\n2,ab"c\n', 4), (e: Error & { lines?: number; code?: string }) => {
      return e.code === 'INVALID_OPENING_QUOTE' && e.lines === 3;
    });
  });
});
