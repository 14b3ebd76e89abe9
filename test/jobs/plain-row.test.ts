import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NormalizationPolicy } from '../../src/domain/number.js';
import { conditionsKey } from '../../src/domain/rule.js';
import { EXPORT_COLUMNS, type RulesCsvRow, readRulesCsv } from '../../src/jobs/rules-csv.js';

/**
 * The rules-file reader's fast paths (plain-row.ts for plain rows, within-file-checks.ts for the
 * checks across rows) against the full path: every row through the schema, and the across-rows checks
 * as two Maps keyed by id and by conditionsKey(). Same rules, same errors, row for row.
 */
const NOW = Date.UTC(2026, 11, 4, 12, 30, 15, 250);

const COLUMNS = EXPORT_COLUMNS;

// Cells of the usual shape, and the edge cases next to them that the fast path must hand on.
const numberCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', '14045266123', '14045266124', '4045266123', '112', '0') },
  { weight: 3, arbitrary: fc.stringMatching(/^[0-9]{1,12}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '1'.repeat(32),
      '1'.repeat(33),
      ' 14045266123',
      '+1 404 526 6123',
      '(404) 526-6123',
      '_1404!',
      '_1404XXX',
      'anonymous',
      '*67',
      '12a',
      "'123",
      "'+14045266123",
      '١٢٣',
    ),
  },
);
const idCell = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('', '1', '2', '3', '7', '10') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '007',
      '4294967295',
      '4294967296',
      '12345678901',
      ' 5',
      '5 ',
      "'5",
      '-1',
      '1.0',
    ),
  },
);
const nameCell = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('', 'dnc', 'vip', 'sales', 'a', 'Fraud Team') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ' dnc',
      'dnc ',
      '\tdnc',
      "'=x",
      "'dnc",
      '=1+1',
      'a\u0007b',
      'a\u0085b',
      'a\u007fb',
      'x'.repeat(128),
      'x'.repeat(129),
      'Ärzte',
      'ärzte ',
      '\u00a0x',
      'x\u2028',
      'a,b',
      'say "hi"',
      '  ',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const enumCell = (values: string[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('', ...values) },
    { weight: 1, arbitrary: fc.constantFrom(...values.map((v) => v.toUpperCase()), ` ${values[0]}`, 'x') },
  );
const remarksCell = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('', 'bulk 12', 'a, b', 'line\nbreak', 'say "hi"', ' padded ') },
  {
    weight: 1,
    arbitrary: fc.constantFrom("'=1", "'hello", "'", 'x'.repeat(1024), 'x'.repeat(1025), '\u0007'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const cellOf: Record<(typeof COLUMNS)[number], fc.Arbitrary<string>> = {
  id: idCell,
  called: numberCell,
  calling: numberCell,
  direction: enumCell(['inbound', 'outbound', 'both']),
  action: enumCell(['block', 'allow']),
  group: nameCell,
  type: nameCell,
  ou: nameCell,
  sbc: nameCell,
  provider: nameCell,
  customer_group: nameCell,
  user: nameCell,
  calling_country: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('US', 'lv', 'XX') },
  ),
  validity_value: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('1', '30', '121', '0', '007', ' 5', 'x') },
  ),
  validity_unit: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('day', 'Month', 'week') },
  ),
  remarks: remarksCell,
  created_at: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('2026-01-02T03:04:05Z', 'yesterday') },
  ),
  expires_at: fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('2027-01-02T03:04:05.678Z', '2027-01-02T03:04:05+02:00', 'soon'),
    },
  ),
};

/** Cells of a row the fast path takes (the columns not named here left blank). */
const plainCellOf: Partial<Record<(typeof COLUMNS)[number], fc.Arbitrary<string>>> = {
  id: fc.oneof(fc.constant(''), fc.integer({ min: 1, max: 60 }).map(String)),
  called: fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{3,11}$/)),
  calling: fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{3,11}$/)),
  direction: fc.constantFrom('', 'inbound', 'outbound', 'both'),
  action: fc.constantFrom('', 'block', 'allow'),
  group: fc.constantFrom('', 'dnc', 'vip'),
  type: fc.constantFrom('', 'wrap'),
  ou: fc.constantFrom('', 'sales'),
  user: fc.constantFrom('', 'ann'),
  remarks: fc.constantFrom('', 'bulk 1', 'a, b', 'é'),
  validity_value: fc.constantFrom('', '', '1', '30', '120'),
  validity_unit: fc.constantFrom('', '', 'hour', 'day', 'month', 'year'),
};

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

const fileArb = fc
  .tuple(
    fc.shuffledSubarray([...COLUMNS], { minLength: 1 }),
    fc.constantFrom('called', 'calling'),
    fc.constantFrom('\n', '\r\n'),
  )
  .chain(([some, numberColumn, eol]) => {
    const header = some.includes(numberColumn) ? some : [...some, numberColumn];
    const row = fc
      .oneof(
        { weight: 2, arbitrary: fc.tuple(...header.map((c) => cellOf[c])) },
        { weight: 3, arbitrary: fc.tuple(...header.map((c) => plainCellOf[c] ?? fc.constant(''))) },
      )
      .chain((cells) =>
        fc.oneof(
          { weight: 20, arbitrary: fc.constant(cells) },
          // Short rows, and rows with a cell too many.
          { weight: 1, arbitrary: fc.constant(cells.slice(0, Math.max(1, cells.length - 1))) },
          { weight: 1, arbitrary: fc.constant([...cells, 'extra']) },
        ),
      );
    return fc
      .array(row, { maxLength: 40, size: 'medium' })
      .map((rows) => [header, ...rows].map((cells) => cells.map(quote).join(',')).join(eol) + eol);
  });

async function read(text: string, policy: NormalizationPolicy, fastPaths: boolean, withinFile: boolean) {
  const rows: RulesCsvRow[] = [];
  for await (const batch of readRulesCsv(Readable.from([text]), { policy, now: NOW, fastPaths, withinFile }))
    rows.push(...batch);
  return rows;
}

/** The across-rows checks as they read before the fast path: one Map per check, first row wins. */
function referenceChecks(rows: RulesCsvRow[]): RulesCsvRow[] {
  const ids = new Map<number, number>();
  const conditions = new Map<string, number>();
  return rows.map((row) => {
    if (!('rule' in row)) return row;
    const { line, rule } = row;
    const idLine = ids.get(rule.id);
    if (idLine !== undefined) {
      return {
        line,
        error: { line, column: 'id', reason: `id ${rule.id} is already used on line ${idLine}` },
      };
    }
    const key = conditionsKey(rule);
    const dupLine = conditions.get(key);
    if (dupLine !== undefined) {
      return {
        line,
        error: {
          line,
          column: 'called',
          reason: `duplicate of the rule on line ${dupLine} (identical conditions); not loaded`,
        },
      };
    }
    ids.set(rule.id, line);
    conditions.set(key, line);
    return row;
  });
}

describe('rules file fast paths', () => {
  for (const policy of [
    { mode: 'digits' },
    { mode: 'e164', defaultCountry: 'US' },
  ] as NormalizationPolicy[]) {
    it(`read every row as the full path does (${policy.mode})`, async () => {
      let fastRules = 0;
      await fc.assert(
        fc.asyncProperty(fileArb, async (text) => {
          const fast = await read(text, policy, true, true);
          const full = referenceChecks(await read(text, policy, false, false));
          expect(fast).toStrictEqual(full);
          fastRules += fast.filter((r) => 'rule' in r).length;
        }),
        { numRuns: 300, seed: Number(process.env.CG_SEED ?? 18) },
      );
      // The generated files exercise the rules path, not only the errors.
      expect(fastRules).toBeGreaterThan(400);
    });
  }

  it('finds a reused id among falling ids and a duplicate among rules sharing a number', async () => {
    const text = [
      'id,called,calling,group',
      '10,111,,g', // 2
      '5,222,,g', // 3: an id below the last
      '5,333,,g', // 4: reused id 5
      '6,111,999,g', // 5: same called, other calling
      '7,111,,h', // 6: same called, other group
      '8,111,999,g', // 7: duplicate of line 5
      '9,,111,g', // 8: 111 on the calling side only
      '11,,111,g', // 9: duplicate of line 8
    ].join('\n');
    const rows = await read(text, { mode: 'digits' }, true, true);
    expect(rows.map((r) => ('error' in r ? r.error.reason : 'ok'))).toEqual([
      'ok',
      'ok',
      'id 5 is already used on line 3',
      'ok',
      'ok',
      'duplicate of the rule on line 5 (identical conditions); not loaded',
      'ok',
      'duplicate of the rule on line 8 (identical conditions); not loaded',
    ]);
  });
});
