import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CSV_LINE } from '../../src/jobs/csv-records.js';
import { scanCsv } from '../../src/jobs/record-count.js';

/**
 * The validation scan's quick path (whole chunks without quotes, by indexOf) against its byte-by-byte
 * state machine: same count, same header, same problem and line, however the file is cut into chunks.
 */
const piece = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('14045266123', 'block', 'dnc', '', 'é', '€uro', 'x') },
  { weight: 6, arbitrary: fc.constantFrom(',', '\n', '\r\n') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"',
      '"a,b"',
      '"say ""hi"""',
      '#',
      '# note\n',
      '#\t',
      '#31#1',
      '\r',
      '\n\n',
      ' ',
    ),
  },
  // Lines near the length limit, in one-byte and in multi-byte characters.
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'a'.repeat(MAX_CSV_LINE - 1),
      'a'.repeat(MAX_CSV_LINE + 1),
      'é'.repeat(MAX_CSV_LINE - 2),
      'é'.repeat(MAX_CSV_LINE + 1),
      '€'.repeat(3000),
    ),
  },
);

const fileArb = fc
  .tuple(
    fc.constantFrom(
      'called,action\n',
      'called,action\r\n',
      '# header next\ncalled\n',
      '\uFEFF#header next\r\n\r\ncalled,action\r\n',
      '\uFEFFcalled,remarks\n',
    ),
    fc.array(piece, { maxLength: 80 }),
    fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 30 }),
    fc.integer({ min: 0, max: 40 }),
  )
  .map(([header, pieces, cuts, limit]) => ({ bytes: Buffer.from(header + pieces.join('')), cuts, limit }));

function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = cuts[i % cuts.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('CSV validation scan', () => {
  it('counts and refuses exactly as the byte-by-byte scan does, however the chunks fall', async () => {
    let quickChunks = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ bytes, cuts, limit }) => {
        const parts = chunks(bytes, cuts);
        const quick = await scanCsv(Readable.from(parts), limit);
        const slow = await scanCsv(Readable.from(parts), limit, false);
        expect(quick).toStrictEqual(slow);
        quickChunks += parts.filter((p) => !p.includes(34)).length;
      }),
      { numRuns: 600, seed: Number(process.env.CG_SEED ?? 18) },
    );
    expect(quickChunks).toBeGreaterThan(1000);
  });

  it('counts the records of a quote-free file read in small chunks', async () => {
    const text = `called,action\n${Array.from({ length: 500 }, (_, i) => `${i},block`).join('\r\n')}\n\n# c\n#\n`;
    const scan = await scanCsv(Readable.from(chunks(Buffer.from(text), [7, 64, 3])), 1000);
    expect(scan).toStrictEqual({ records: 500, exceeded: false, header: 'called,action' });
  });
});
