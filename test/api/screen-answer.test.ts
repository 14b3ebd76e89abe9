import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  answerStream,
  CHUNK_BYTES,
  csvAnswer,
  ENTRIES_PER_CHUNK,
  type Hit,
  type HitOutcome,
  jsonAnswer,
  ndjsonAnswer,
  type Screened,
} from '../../src/api/routes/screen-answer.js';
import { csvDataLine } from '../../src/jobs/csv-writer.js';
import { loopTurnsDuring } from '../support/loop-turns.js';

/** Any text: quotes, backslashes, control characters, non-ASCII, lone surrogates. */
const text = fc.oneof(
  fc.stringMatching(/^[0-9]{1,15}$/),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('"', '\\', '\u0000\n\t', '\u007f', '\u2028', '\ud800', '\udc00x', '😀', '+1 (404) 555'),
);
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/**
 * An outcome as screening builds it (fields in any order: JSON.stringify follows the object's), or as
 * redaction leaves it (policyId and reason present but undefined).
 */
const outcome: fc.Arbitrary<HitOutcome> = fc
  .record({
    operation: fc.constantFrom('none', 'auto_wrap_up', 'pop_up'),
    typeId: optional(text),
    businessResult: optional(text),
    policyId: optional(text),
    reason: optional(text),
    order: fc.shuffledSubarray(['typeId', 'businessResult', 'policyId', 'reason'] as const),
    redacted: fc.boolean(),
  })
  .map((r) => {
    const o: { operation: string; [field: string]: unknown } = { operation: r.operation };
    for (const k of r.order) if (r[k] !== undefined) o[k] = r[k];
    return (r.redacted ? { ...o, policyId: undefined, reason: undefined } : o) as HitOutcome;
  });

const screened = (maxHits: number): fc.Arbitrary<{ task: string | undefined; s: Screened }> =>
  fc
    .record({
      task: optional(text),
      outcomes: fc.array(outcome, { minLength: 1, maxLength: 4 }),
      hits: fc.array(
        fc.record({
          index: fc.nat(),
          number: text,
          ruleId: fc.oneof(fc.nat(), fc.constant(null), fc.integer(), fc.constantFrom(2 ** 53, 1e21, -0)),
          pick: fc.nat(),
        }),
        { maxLength: maxHits },
      ),
      errors: fc.array(fc.record({ index: fc.nat(), number: text, message: text }), { maxLength: 3 }),
      counts: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
    })
    .map((r) => ({
      task: r.task,
      s: {
        total: r.counts[0],
        blocked: r.counts[1],
        allowed: r.counts[2],
        invalid: r.counts[3],
        // hits share their outcome objects, as in a screen
        results: r.hits.map(
          (h): Hit => ({
            index: h.index,
            number: h.number,
            ruleId: h.ruleId,
            outcome: r.outcomes[h.pick % r.outcomes.length]!,
          }),
        ),
        errors: r.errors,
      },
    }));

/** The chunks of an answer as the client reads them: bytes, decoded as UTF-8 at the end. */
const decoded = (chunks: Iterable<string | Buffer>) =>
  Buffer.concat([...chunks].map((c) => Buffer.from(c))).toString();

/** The answer's entry as the API documents it (hitSchema), the reference the writers are held to. */
const entry = (h: Hit) => ({ index: h.index, number: h.number, ruleId: h.ruleId, ...h.outcome });

describe('the /v1/screen answer writers', () => {
  it('write the JSON answer byte for byte as JSON.stringify of { taskId, ...counts, results, errors }', () => {
    fc.assert(
      fc.property(screened(8), ({ task, s }) => {
        const reference = JSON.stringify({ taskId: task, ...s, results: s.results.map(entry) });
        assert.equal(decoded(jsonAnswer(task, s)), reference);
      }),
      { numRuns: 3_000, seed: 22 },
    );
  });

  it('write answers of several chunks as one (entries across chunk boundaries)', () => {
    fc.assert(
      fc.property(screened(3), fc.integer({ min: 1, max: 3 * ENTRIES_PER_CHUNK + 1 }), ({ task, s }, n) => {
        if (s.results.length === 0) return;
        const results = Array.from({ length: n }, (_, i) => ({
          ...s.results[i % s.results.length]!,
          index: i,
        }));
        const big = { ...s, results };
        const chunks = [...jsonAnswer(task, big)];
        const reference = JSON.stringify({ taskId: task, ...big, results: results.map(entry) });
        assert.equal(decoded(chunks), reference);
        const bytes = Buffer.byteLength(reference);
        assert.ok(chunks.length >= 2 + Math.floor(bytes / (CHUNK_BYTES + 1024)), `${chunks.length} chunks`);
        const nd = decoded(ndjsonAnswer(task, big)).split('\n');
        assert.equal(nd.length, n + s.errors.length + 2);
        assert.equal(nd[n - 1], JSON.stringify(entry(results[n - 1]!)));
      }),
      { numRuns: 40, seed: 22 },
    );
  });

  it('write NDJSON and CSV as one line per entry, then errors (CSV: operation invalid) and counts (NDJSON)', () => {
    fc.assert(
      fc.property(screened(8), ({ task, s }) => {
        const { results, errors, ...counts } = s;
        const ndjson = [
          ...results.map((h) => `${JSON.stringify(entry(h))}\n`),
          ...errors.map((e) => `${JSON.stringify({ error: e })}\n`),
          `${JSON.stringify({ counts: { taskId: task, ...counts } })}\n`,
        ].join('');
        assert.equal(decoded(ndjsonAnswer(task, s)), ndjson);
        const csv = results.map((h) => {
          const e = entry(h);
          return csvDataLine(
            [e.index, e.number, e.ruleId, e.typeId, e.operation, e.businessResult, e.policyId, e.reason].map(
              (cell) => (cell === undefined || cell === null ? '' : String(cell)),
            ),
          );
        });
        // then the numbers that could not be screened, so that none of them reads as clear to dial
        const invalid = errors.map((e) =>
          csvDataLine([String(e.index), e.number, '', '', 'invalid', '', '', e.message]),
        );
        assert.equal(
          [...csvAnswer(s)].join(''),
          `index,number,rule_id,type_id,operation,business_result,policy_id,reason\n${csv.join('')}${invalid.join('')}`,
        );
      }),
      { numRuns: 1_000, seed: 22 },
    );
  });

  it('stream a large answer with turns of the event loop between its chunks', async () => {
    const outcome: HitOutcome = { operation: 'auto_wrap_up', typeId: 'wrap', businessResult: 'DNC' };
    const results = Array.from({ length: 50_000 }, (_, i) => ({
      index: i * 2,
      number: String(15_550_000_000 + i),
      ruleId: i + 1,
      outcome,
    }));
    const s: Screened = { total: 100_000, blocked: 50_000, allowed: 50_000, invalid: 0, results, errors: [] };
    const chunks: Buffer[] = [];
    const { turns } = await loopTurnsDuring(async () => {
      for await (const chunk of answerStream(jsonAnswer('camp', s))) chunks.push(Buffer.from(chunk));
    });
    assert.ok(chunks.length > 10, `${chunks.length} chunks`);
    assert.ok(turns >= chunks.length - 1, `the loop ran ${turns} times during ${chunks.length} chunks`);
    assert.equal(
      Buffer.concat(chunks).toString(),
      JSON.stringify({ taskId: 'camp', ...s, results: results.map(entry) }),
    );
  });
});
