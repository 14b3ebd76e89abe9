import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { neutraliseCell, restoreCell } from '../../src/jobs/csv-cells.js';
import { csvDataLine, csvLine, csvRows, csvStream } from '../../src/jobs/csv-writer.js';

const cell = fc.string({
  unit: fc.oneof(
    fc.constantFrom(',', '"', "'", '\n', '\r', '=', '+', '-', '@', '\t', ' ', '#'),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  maxLength: 10,
});
const rows = fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 });

describe('CSV writer', () => {
  it('quotes only the cells that need it and ends lines in CRLF', () => {
    assert.equal(
      csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', '']),
      'a,"b,c","say ""hi""","two\nlines",\r\n',
    );
  });

  it('neutralises a cell a spreadsheet would run as a formula, and the mark of a leading quote', () => {
    assert.equal(
      csvLine(['=1+2', '+1404', '-5', '@SUM(A1)', "'x", '14045266123']),
      "'=1+2,'+1404,'-5,'@SUM(A1),''x,14045266123\r\n",
    );
  });

  it('any rows read back as the neutralised cells, and restoreCell gives the text back', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const back = parse(csvRows(rs), { relax_column_count: false }) as string[][];
        assert.deepEqual(
          back,
          rs.map((r) => r.map(neutraliseCell)),
        );
        assert.deepEqual(
          back.map((r) => r.map(restoreCell)),
          rs,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('writes every row exactly as csv-stringify with the protection as its cast writes it', () => {
    const FILE = { cast: { string: neutraliseCell }, record_delimiter: '\r\n', quote_record_delimiter: true };
    fc.assert(
      fc.property(rows, (rs) => {
        assert.equal(csvRows(rs), stringify(rs, FILE));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes a data line (the screen answer) as csv-stringify does, cells as they are, and reads back the same', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const text = rs.map(csvDataLine).join('');
        assert.equal(text, stringify(rs, { record_delimiter: '\n', quote_record_delimiter: true }));
        assert.deepEqual(parse(text, { relax_column_count: true }), rs);
      }),
      { numRuns: 1000 },
    );
    assert.equal(
      csvDataLine(['1', '+14045550100', '4th attempt today, cap 3']),
      '1,+14045550100,"4th attempt today, cap 3"\n',
    );
  });

  it('the terminal writer keeps cells as they are, with a header and LF line ends', async () => {
    const w = csvStream(['called', 'rule_id']);
    const chunks: string[] = [];
    w.on('data', (c: Buffer) => chunks.push(c.toString()));
    w.write(['+14045266123', 7]);
    w.end();
    await new Promise((r) => w.on('end', r));
    assert.equal(chunks.join(''), 'called,rule_id\n+14045266123,7\n');
  });
});
