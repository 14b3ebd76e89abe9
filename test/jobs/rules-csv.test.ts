import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'vitest';
import { CsvHeaderError, type RulesCsvRow, readRulesCsv } from '../../src/jobs/rules-csv.js';

const NOW = Date.UTC(2026, 10, 22);
async function read(text: string | Buffer): Promise<RulesCsvRow[]> {
  const rows: RulesCsvRow[] = [];
  for await (const row of readRulesCsv(Readable.from([text]), { policy: { mode: 'digits' }, now: NOW }))
    rows.push(...row);
  return rows;
}

describe('rules CSV', () => {
  it('accepts a BOM, CRLF line ends, quoted fields and comment lines', async () => {
    const text =
      '\uFEFF# callguard rules\r\ncalled,action,remarks\r\n"_3712!",block,"Latvia, mobiles"\r\n14045266123,allow,"say ""hi"""\r\n';
    const rows = await read(text);
    assert.deepEqual(
      rows.map((r) => ('rule' in r ? [r.line, r.rule.id, r.rule.called, r.rule.remarks] : r)),
      [
        [3, 1, '_3712!', 'Latvia, mobiles'],
        [4, 2, '14045266123', 'say "hi"'],
      ],
    );
  });

  it('turns validity into an expiry and reports rows that give only half of it', async () => {
    const rows = await read('called,validity_value,validity_unit\n1,1,month\n2,5,\n3,121,day\n4,2,week\n');
    assert.equal('rule' in rows[0] && rows[0].rule.expiresAt, Date.UTC(2026, 11, 22));
    assert.deepEqual(
      rows.slice(1).map((r) => ('error' in r ? [r.error.line, r.error.column] : r)),
      [
        [3, 'validity_value'],
        [4, 'validity_value'],
        [5, 'validity_unit'],
      ],
    );
  });

  it('reports duplicates (identical conditions) and reused ids, keeping the first', async () => {
    const rows = await read('id,called,action\n7,123,block\n8,123,allow\n7,456,block\n');
    assert.ok('rule' in rows[0]);
    assert.match('error' in rows[1] ? rows[1].error.reason : '', /duplicate of the rule on line 2/);
    assert.match('error' in rows[2] ? rows[2].error.reason : '', /id 7 is already used on line 2/);
  });

  it('still finds a duplicate of an early row after 100,000 rows in between', async () => {
    const lines = ['called,direction'];
    for (let i = 0; i < 100_000; i++) lines.push(`${14_040_000_000 + i},outbound`);
    lines.push('14040000000,outbound', '14040000000,inbound', '14040099999,outbound');
    const rows = await read(`${lines.join('\n')}\n`);
    const last = rows.slice(-3).map((r) => ('error' in r ? r.error.reason : 'loaded'));
    assert.deepEqual(last, [
      'duplicate of the rule on line 2 (identical conditions); not loaded',
      'loaded',
      'duplicate of the rule on line 100001 (identical conditions); not loaded',
    ]);
    assert.equal(rows.filter((r) => 'error' in r).length, 2);
  });

  it('refuses a header without a number column, with unknown columns, or with repeats', async () => {
    await assert.rejects(read('action,remarks\nblock,x\n'), CsvHeaderError);
    await assert.rejects(read('called,colour\n1,red\n'), /unknown column\(s\) "colour"/);
    await assert.rejects(read('called,called\n1,2\n'), /appears twice/);
  });

  it('fails cleanly on binary junk and runaway lines instead of loading garbage', async () => {
    const junk = Buffer.concat([
      Buffer.from('called,action\n'),
      Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 37) % 256)),
    ]);
    await assert.rejects(read(junk));
    await assert.rejects(read(`called,action\n${'1'.repeat(20_000)},block\n`));
  });
});
