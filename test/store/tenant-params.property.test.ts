import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  DEFAULT_TENANT_PARAMS,
  readParams,
  type TenantParams,
  tenantParamsSchema,
} from '../../src/store/tenant-params.js';

/** A readable value and an unreadable one (another version's) for some known fields. */
const known = {
  defaultAction: { good: fc.constantFrom('allow', 'block'), bad: fc.constantFrom('announce', 7, null) },
  hangupCause: { good: fc.integer({ min: 1, max: 127 }), bad: fc.constantFrom(0, 500, 'busy', 1.5) },
  blockWithoutType: { good: fc.constantFrom('hangup', 'continue'), bad: fc.constantFrom('announce', true) },
  dataIsolation: { good: fc.boolean(), bad: fc.constantFrom('yes', 1) },
  scheduleLimit: { good: fc.integer({ min: 0, max: 1000 }), bad: fc.constantFrom(-1, 'ten') },
} as const;
type Field = keyof typeof known;
const fields = Object.keys(known) as Field[];

/** A stored params value: each known field absent, readable or unreadable; plus fields this version does not know. */
const stored = fc.record({
  choice: fc.tuple(...fields.map(() => fc.constantFrom('absent', 'good', 'bad'))),
  good: fc.record(
    Object.fromEntries(fields.map((f) => [f, known[f].good])) as Record<Field, fc.Arbitrary<unknown>>,
  ),
  bad: fc.record(
    Object.fromEntries(fields.map((f) => [f, known[f].bad])) as Record<Field, fc.Arbitrary<unknown>>,
  ),
  unknown: fc.dictionary(
    fc.stringMatching(/^future[A-Z][a-z]{1,8}$/),
    fc.jsonValue().filter((v) => v !== undefined),
    { maxKeys: 3 },
  ),
});

/** What the node had before (the fallback): any valid params. */
const previous = fc
  .record({
    defaultAction: known.defaultAction.good,
    hangupCause: known.hangupCause.good,
    blockWithoutType: known.blockWithoutType.good,
  })
  .map((p) => tenantParamsSchema.parse(p));

describe('tenant params written by another version', () => {
  it('keep unknown fields, apply every readable field, and keep the previous value of an unreadable one', () => {
    fc.assert(
      fc.property(stored, previous, (s, before: TenantParams) => {
        const value: Record<string, unknown> = { ...s.unknown };
        fields.forEach((f, i) => {
          if (s.choice[i] === 'good') value[f] = s.good[f];
          if (s.choice[i] === 'bad') value[f] = s.bad[f];
        });
        const read = readParams(JSON.stringify(value), before) as Record<string, unknown>;
        fields.forEach((f, i) => {
          const want =
            s.choice[i] === 'good'
              ? s.good[f]
              : s.choice[i] === 'bad'
                ? (before as Record<string, unknown>)[f]
                : (DEFAULT_TENANT_PARAMS as Record<string, unknown>)[f];
          assert.deepEqual(read[f], want, `${f} (${s.choice[i]})`);
        });
        // As stored: through JSON (-0 comes back as 0).
        for (const [name, v] of Object.entries(s.unknown)) {
          assert.deepEqual(read[name], JSON.parse(JSON.stringify(v)), name);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an unreadable JSON value as a whole keeps what the node had', () => {
    const before = tenantParamsSchema.parse({ defaultAction: 'block', hangupCause: 17 });
    assert.deepEqual(readParams('{"defaultAction":', before), before);
    assert.deepEqual(readParams('[1,2]', before), before);
  });
});
