import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Guard } from '../../src/jobs/import-validation.js';

/**
 * The import's UTF-8 check, chunk by chunk, against decoding the whole file with a TextDecoder: why
 * the guard refuses the file, undefined when it passes it.
 */
async function guardRefusal(parts: Buffer[]): Promise<string | undefined> {
  try {
    await pipeline(Readable.from(parts), utf8Guard(), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source);
    });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The line of the first byte that is not UTF-8, by a lenient decoder's first replacement character. */
function badByteLine(bytes: Buffer): number {
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
}

const valid = fc.constantFrom('a', ',', '\n', '\n', 'é', '€', '😀', '14045266123');
const invalid = fc.constantFrom(
  [0xff],
  [0xc0, 0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xf0, 0x9f],
);
const bytesArb = fc.array(
  fc.oneof(
    { weight: 30, arbitrary: valid.map((s) => [...Buffer.from(s)]) },
    { weight: 1, arbitrary: invalid },
  ),
  { maxLength: 60 },
);

describe('UTF-8 guard', () => {
  it('accepts a file exactly when it is UTF-8, however the chunks cut its characters', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytesArb,
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        async (pieces, cuts) => {
          const bytes = Buffer.from(pieces.flat());
          const parts: Buffer[] = [];
          for (let at = 0, i = 0; at < bytes.length; i++) {
            parts.push(bytes.subarray(at, at + cuts[i % cuts.length]!));
            at += cuts[i % cuts.length]!;
          }
          let utf8 = true;
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            utf8 = false;
          }
          const refusal = await guardRefusal(parts);
          expect(refusal === undefined).toBe(utf8);
          // A file cut off inside its last character has no bad byte to point at.
          if (refusal !== undefined && !refusal.includes('ends inside')) {
            expect(refusal).toContain(`invalid byte near line ${badByteLine(bytes)})`);
          }
        },
      ),
      { numRuns: 1500, seed: Number(process.env.CG_SEED ?? 18) },
    );
  });

  it('names the line of a Latin-1 byte deep inside a large chunk, not the line the chunk starts on', async () => {
    const lines = Array.from({ length: 40_001 }, (_, i) => Buffer.from(`${14045266000 + i},block\n`));
    lines[30_000] = Buffer.from('14045266123,caf\xe9\n', 'latin1');
    const refusal = await guardRefusal([Buffer.concat(lines)]);
    expect(refusal).toMatch(/not UTF-8 text \(an invalid byte near line 30001\)/);
  });
});
