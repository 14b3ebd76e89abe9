import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { plainScreenBody, screenBody } from '../../src/api/routes/screen-routes.js';

const entry = fc.oneof(
  fc.stringMatching(/^[0-9]{0,15}$/),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('1'.repeat(64), '1'.repeat(65), ''),
  fc.constantFrom(null, 5, undefined, {}),
);
const task = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.constantFrom('', ' camp', 'camp\u00a0', 'c\u0007', 'a'.repeat(129), null, 7),
);
const body = fc.oneof(
  fc.record(
    { taskId: task, numbers: fc.array(fc.stringMatching(/^[0-9]{1,12}$/), { maxLength: 20 }) },
    { requiredKeys: ['numbers'] },
  ),
  fc.record(
    { taskId: task, numbers: fc.array(entry, { maxLength: 6 }), extra: fc.constant(1) },
    { requiredKeys: [] },
  ),
  fc.dictionary(
    fc.constantFrom('taskId', 'numbers', 'number'),
    fc.oneof(task, fc.array(entry, { maxLength: 3 })),
  ),
);

describe('the JSON /v1/screen body fast path agrees with its zod schema', () => {
  it('accepts only what zod accepts, with an equal result', () => {
    let accepted = 0;
    fc.assert(
      fc.property(body, (raw) => {
        const fast = plainScreenBody(raw);
        if (fast === undefined) return;
        accepted++;
        const parsed = screenBody.safeParse(raw);
        assert.ok(parsed.success, `fast path took ${JSON.stringify(raw)}, zod refuses it`);
        assert.deepEqual(fast, parsed.data);
      }),
      { numRuns: 20_000, seed: 22 },
    );
    assert.ok(accepted > 1_000, `the fast path took ${accepted} bodies`);
  });

  it('leaves more than 100,000 numbers to zod, which says so', () => {
    const raw = { numbers: Array.from({ length: 100_001 }, () => '1') };
    assert.equal(plainScreenBody(raw), undefined);
    assert.equal(screenBody.safeParse(raw).success, false);
    assert.equal(plainScreenBody({ numbers: raw.numbers.slice(1) })?.numbers.length, 100_000);
  });
});
