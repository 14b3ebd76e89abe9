import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Guard } from '../../src/jobs/import-validation.js';

/** The import's UTF-8 check, chunk by chunk, against decoding the whole file with a strict TextDecoder. */
async function guardAccepts(parts: Buffer[]): Promise<boolean> {
  try {
    await pipeline(Readable.from(parts), utf8Guard(), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source);
    });
    return true;
  } catch {
    return false;
  }
}

const valid = fc.constantFrom('a', ',', '\n', 'é', '€', '😀', '14045266123');
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
          expect(await guardAccepts(parts)).toBe(utf8);
        },
      ),
      { numRuns: 1500, seed: Number(process.env.CG_SEED ?? 18) },
    );
  });
});
