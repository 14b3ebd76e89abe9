import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { csvRows } from '../../src/jobs/csv-records.js';
import { importTemplateCsv } from '../../src/jobs/import-template.js';
import { validateImportFile } from '../../src/jobs/import-validation.js';
import { type RulesCsvRow, readRulesCsv } from '../../src/jobs/rules-csv.js';

/**
 * `#` lines in a rules file, as docs/DECISIONS.md words the rule: before the header every line that
 * starts with `#` is a comment; after it, only a line that is `#` alone or `#` followed by a space
 * or a tab (a number never holds one), so that a row such as `#31#14045551021,block` is data.
 */
const isCommentRef = (line: string, headerSeen: boolean) =>
  line.startsWith('#') && (!headerSeen || /^#([ \t\r]|$)/.test(line));

const NOW = Date.UTC(2026, 10, 22);

async function rulesOf(text: string): Promise<RulesCsvRow[]> {
  const rows: RulesCsvRow[] = [];
  for await (const batch of readRulesCsv(Readable.from([text]), { policy: { mode: 'digits' }, now: NOW }))
    rows.push(...batch);
  return rows;
}

function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = cuts[i % cuts.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

const before = fc.constantFrom('', '# note', '#', '#x', '#31#14045551021,block', '# say "hi", then', '#\t');
const after = fc.constantFrom(
  '14045551091,block',
  '#31#14045551021,block',
  '#31#,allow',
  '*31#1404,block',
  '"#quoted",block',
  '# note',
  '#',
  '#\ttabbed note',
  '# 31#1404,block',
  '',
);
const fileArb = fc.record({
  bom: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  head: fc.array(before, { maxLength: 4 }),
  body: fc.array(after, { maxLength: 12 }),
  finalEol: fc.boolean(),
  cuts: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
});

describe('comment lines in a rules file', () => {
  it('every reader skips the same lines, reads the header after comments and keeps each row its line', async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ bom, eol, head, body, finalEol, cuts }) => {
        const lines = [...head, 'called,action', ...body];
        const text = (bom ? '\uFEFF' : '') + lines.join(eol) + (finalEol ? eol : '');
        // The reference: the rule applied line by line, csv-parse for the cells of the others.
        let header: string[] | undefined;
        const expected: { cells: string[]; line: number }[] = [];
        lines.forEach((l, i) => {
          if (l === '' || isCommentRef(l, header !== undefined)) return;
          const [cells] = parse(l) as string[][];
          if (header === undefined) header = cells;
          else expected.push({ cells: cells!, line: i + 1 });
        });

        const parts = () => Readable.from(chunks(Buffer.from(text), cuts));
        let seen: string[] | undefined;
        const rows: { cells: string[]; line: number }[] = [];
        for await (const batch of csvRows(parts(), (h) => {
          seen = h;
        }))
          rows.push(...batch);
        assert.deepEqual(seen, header);
        assert.deepEqual(rows, expected);
        assert.deepEqual(await validateImportFile(parts(), 1000), {
          records: expected.length,
          exceeded: false,
        });
      }),
      { numRuns: 400, seed: Number(process.env.CG_SEED ?? 18) },
    );
  });

  it('the served template passes validation and reads as its one example row', async () => {
    const template = importTemplateCsv();
    assert.deepEqual(await validateImportFile(Readable.from([Buffer.from(template)]), 50_000), {
      records: 1,
      exceeded: false,
    });
    const rows = await rulesOf(template);
    assert.equal(rows.length, 1);
    assert.ok('rule' in rows[0]!, JSON.stringify(rows[0]));
    assert.equal(rows[0].rule.called, '14045266123');
  });

  it('a comment before the header, with or without a BOM, does not make the file refused', async () => {
    for (const text of [
      '# note\ncalled,action\n14045551091,block\n',
      '\uFEFF# note\r\ncalled,action\r\n14045551091,block\r\n',
      '#note\n\ncalled,action\n14045551091,block\n',
    ]) {
      assert.deepEqual(await validateImportFile(Readable.from([Buffer.from(text)]), 10), {
        records: 1,
        exceeded: false,
      });
    }
  });

  it('a number that starts with # is a rule, not a dropped comment, and rows keep their file lines', async () => {
    const text = 'called,action\n# blocked prefixes\n#31#14045551021,block\n\n#\n12X,block\n';
    assert.deepEqual(await validateImportFile(Readable.from([Buffer.from(text)]), 10), {
      records: 2,
      exceeded: false,
    });
    const rows = await rulesOf(text);
    assert.deepEqual(
      rows.map((r) => ('rule' in r ? [r.line, r.rule.called] : [r.line, r.error.column])),
      [
        [3, '#31#14045551021'],
        [6, 'called'],
      ],
    );
  });

  it('a record too long after a comment line is refused at its own line', async () => {
    const text = `called,remarks\n# note\n1,${'x'.repeat(9000)}\n`;
    await assert.rejects(
      validateImportFile(Readable.from([Buffer.from(text)]), 10),
      /at line 3: a record is longer/,
    );
  });
});
