import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { rawCallSchema } from '../../src/domain/call-context.js';
import { plainRawCall } from '../../src/domain/raw-call-fast-path.js';

/** Strings near every edge rawCallSchema draws: lengths, white space, control characters. */
const awkwardString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[0-9+ ()-]{0,20}$/),
  fc.constantFrom(
    '',
    ' ',
    ' camp',
    'camp ',
    'ca\tmp',
    'c\u0000',
    'c\u007f',
    'c\u0085',
    'c\u009f',
    'c\u00a0',
    '\u00a0c',
    'c\u2028',
    '\ufeffc',
    'c\u3000',
    'ünï',
    '😀',
    'a'.repeat(128),
    'a'.repeat(129),
    '1'.repeat(256),
    '1'.repeat(257),
  ),
);
const anyValue = fc.oneof(
  awkwardString,
  fc.constantFrom('inbound', 'outbound', 'both', 'Inbound', 'US', 'us', 'ZZ'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, undefined, true, [], {}, ['x']),
);
const key = fc.constantFrom(
  'called',
  'calling',
  'direction',
  'task',
  'sbc',
  'provider',
  'customerGroup',
  'user',
  'callingCountry',
  'at',
  'extra',
  'constructor',
);
const body = fc.oneof(
  fc.dictionary(key, anyValue),
  // The usual shapes, so that the fast path's acceptances are exercised often.
  fc.record(
    {
      called: awkwardString,
      calling: awkwardString,
      direction: fc.constantFrom('inbound', 'outbound', 'both'),
      task: awkwardString,
      sbc: awkwardString,
      user: awkwardString,
    },
    { requiredKeys: ['called', 'direction'] },
  ),
  fc.record(
    {
      called: fc.stringMatching(/^[0-9]{0,15}$/),
      direction: fc.constantFrom('inbound', 'outbound'),
      task: fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), awkwardString),
      provider: fc.stringMatching(/^[a-z0-9-]{1,12}$/),
    },
    { requiredKeys: ['called', 'direction'] },
  ),
);

describe('the /v1/check body fast path agrees with rawCallSchema', () => {
  it('accepts only what zod accepts, with an equal result', () => {
    let accepted = 0;
    fc.assert(
      fc.property(body, (raw) => {
        const fast = plainRawCall(raw);
        if (fast === undefined) return;
        accepted++;
        const parsed = rawCallSchema.safeParse(raw);
        assert.ok(parsed.success, `fast path took ${JSON.stringify(raw)}, zod refuses it`);
        assert.deepEqual(fast, parsed.data);
      }),
      { numRuns: 50_000, seed: 22 },
    );
    assert.ok(accepted > 5_000, `the fast path took ${accepted} bodies`);
  });

  it('takes the bodies a PBX or a campaign sends and leaves the rest to zod', () => {
    for (const raw of [
      { called: '14045266123', direction: 'outbound', task: 'camp' },
      { called: '+1 (404) 526-6123', calling: 'anonymous', direction: 'inbound', sbc: 'edge-1', user: 'ü' },
      { called: '', direction: 'inbound' },
    ])
      assert.equal(plainRawCall(raw), raw);
    for (const raw of [
      { direction: 'outbound' },
      { called: '1', direction: 'outbound', at: 5 },
      { called: '1', direction: 'outbound', callingCountry: 'us' },
      { called: '1', direction: 'outbound', task: ' camp' },
      Object.assign(Object.create({ inherited: 1 }), { called: '1', direction: 'outbound' }),
      JSON.parse('{"called":"1","direction":"outbound","__proto__":{"task":"x"}}'),
      null,
      'called',
      [],
    ])
      assert.equal(plainRawCall(raw), undefined, JSON.stringify(raw));
  });
});
