import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import { DIGITS_POLICY } from '../../src/domain/number.js';
import { parsePattern, patternMatches, specificity } from '../../src/domain/pattern.js';

const parse = (p: string, side: 'called' | 'calling' = 'called') => parsePattern(p, side, DIGITS_POLICY);

function rejects(input: string, fragment: RegExp, side: 'called' | 'calling' = 'called'): void {
  assert.throws(
    () => parse(input, side),
    (e: unknown) =>
      e instanceof CallguardError && e.code === 'CG_ERR_PATTERN_INVALID' && fragment.test(e.message),
    `${input} should be refused with a message matching ${fragment}`,
  );
}

describe('number patterns', () => {
  it('parses every accepted kind into its canonical form', () => {
    assert.deepEqual(parse('+1 (404) 526-6123'), {
      kind: 'exact',
      text: '14045266123',
      fixed: '14045266123',
      length: 11,
    });
    assert.deepEqual(parse('_3712!'), { kind: 'bang', text: '_3712!', fixed: '3712', length: 4 });
    assert.deepEqual(parse('_3712.'), { kind: 'dot', text: '_3712.', fixed: '3712', length: 4 });
    assert.deepEqual(parse('_1 404 526 6xxx'), {
      kind: 'range',
      text: '_14045266XXX',
      fixed: '14045266',
      length: 11,
    });
    assert.deepEqual(parse('*67'), { kind: 'exact', text: '*67', fixed: '*67', length: 3 });
    assert.deepEqual(parse('_*67#'), { kind: 'exact', text: '*67#', fixed: '*67#', length: 4 });
    assert.equal(parse('Anonymous', 'calling').kind, 'anonymous');
  });

  it('refuses what it cannot match, saying why and what is accepted', () => {
    rejects('', /empty/);
    rejects('_', /empty/);
    rejects('1404abc', /letters are not allowed/);
    rejects('_1X04', /X must be trailing/);
    rejects('_NXXNXXXXXX', /N is not supported/);
    rejects('_1404Z', /Z is not supported/);
    rejects('_1[2-5]XX', /character classes/);
    rejects('_14XX!', /fixed length/);
    rejects('_!', /at least one fixed character/);
    rejects('_14!04', /only stand at the end/);
    rejects('1404XXX', /does not start with _/);
    rejects('1'.repeat(33), /at most 32/);
    rejects(`_${'1'.repeat(30)}XXX`, /at most 32/);
    rejects('anonymous', /calling number only/, 'called');
  });

  it('matches numbers the way an Asterisk administrator expects', () => {
    const m = (p: string, n: string) => patternMatches(parse(p, 'calling'), n);
    assert.ok(m('_3712!', '3712') && m('_3712!', '37120000000'));
    assert.ok(!m('_3712.', '3712') && m('_3712.', '37121'));
    assert.ok(
      m('_14045266XXX', '14045266123') &&
        !m('_14045266XXX', '1404526612') &&
        !m('_14045266XXX', '1404526612#'),
    );
    assert.ok(m('14045266123', '14045266123') && !m('14045266123', '140452661234'));
    assert.ok(m('anonymous', 'anonymous') && !m('_!'.replace('!', '1!'), 'anonymous'));
  });

  it('orders specificity as DESIGN.md: 14045266123 > _140452661! > _14045266XXX > _14045266! > _1404! > absent', () => {
    const order = ['14045266123', '_140452661!', '_14045266XXX', '_14045266!', '_1404!'].map((p) =>
      specificity(parse(p)),
    );
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1] > order[i], `step ${i}`);
    assert.ok(order[order.length - 1] > specificity(undefined));
    assert.ok(specificity(parse('_1404.')) > specificity(parse('_1404!')));
  });

  it('round-trips: the canonical text parses to the same pattern', () => {
    const patterns = fc.oneof(
      fc.stringMatching(/^[0-9*#]{1,32}$/),
      fc.stringMatching(/^_[0-9]{1,20}[!.]$/),
      fc.stringMatching(/^_[0-9]{0,10}X{1,10}$/),
    );
    fc.assert(
      fc.property(patterns, (p) => {
        const once = parse(p);
        assert.deepEqual(parse(once.text), once);
      }),
    );
  });
});
