import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { CallContext } from '../../src/domain/call-context.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';

const T = Date.UTC(2026, 10, 22);
const call = (c: Partial<CallContext>): CallContext => ({
  called: '',
  calling: '',
  direction: 'inbound',
  at: T,
  ...c,
});
const rule = (r: Partial<Rule> & Pick<Rule, 'id'>): Rule =>
  ({ direction: 'both', action: 'block', updatedAt: T, ...r }) as Rule;

/** The ClearIP cases, decided by the engine and explained. */
describe('precedence: the most specific matching rule wins', () => {
  it('_3712! blocks Latvian mobiles; an exact allow punches a hole', () => {
    const e = DecisionEngine.fromRules([
      rule({ id: 1, called: '_3712!' }),
      rule({ id: 2, called: '37120000000', action: 'allow' }),
    ]);
    assert.equal(e.decide(call({ called: '37121234567' })).action, 'block');
    const hole = e.decide(call({ called: '37120000000' }));
    assert.equal(hole.action, 'allow');
    assert.match(hole.why, /rule 2 .* allows; it beat rule 1 .* on called specificity/);
  });

  it('1404526 6XXX blocks a 1000-block, and a longer prefix inside it wins', () => {
    const e = DecisionEngine.fromRules([
      rule({ id: 1, called: '_14045266XXX' }),
      rule({ id: 2, called: '_140452661!', action: 'allow' }),
    ]);
    assert.equal(e.decide(call({ called: '14045266999' })).action, 'block');
    assert.equal(e.decide(call({ called: '14045266100' })).action, 'allow');
    assert.equal(
      e.decide(call({ called: '1404526699' })).action,
      'allow',
      'a 10-digit number is outside the range',
    );
  });

  it('a calling range blocked for one subscriber’s called number only', () => {
    const e = DecisionEngine.fromRules([
      rule({ id: 1, calling: '_1800!', action: 'allow' }),
      rule({ id: 2, called: '14045266123', calling: '_1800!', action: 'block' }),
    ]);
    assert.equal(e.decide(call({ called: '14045266123', calling: '18005550199' })).action, 'block');
    assert.equal(e.decide(call({ called: '14045266124', calling: '18005550199' })).action, 'allow');
  });

  it('scope, task group, country, then block over allow, then newer, then lower id', () => {
    const same = { called: '_1404!' };
    const e = DecisionEngine.fromRules(
      [
        rule({ id: 1, ...same, action: 'allow', sbc: 'edge' }),
        rule({ id: 2, ...same, action: 'block', provider: 'trunk-a' }),
        rule({ id: 3, ...same, action: 'allow', groupId: 'g' }),
        rule({ id: 4, ...same, action: 'block', callingCountry: 'US' }),
        rule({ id: 5, ...same, action: 'allow' }),
        rule({ id: 6, ...same, action: 'allow', updatedAt: T + 1000 }),
      ],
      { bindings: [['task', ['g']]] },
    );
    const base = { called: '14041234567', calling: '442079460000' }; // a GB caller: rule 4 is for US callers
    assert.equal(
      e.decide(call({ ...base, sbc: 'edge', provider: 'trunk-a' })).rule?.id,
      2,
      'provider is deeper than sbc',
    );
    assert.equal(e.decide(call({ ...base, sbc: 'edge' })).rule?.id, 1, 'any scope beats none');
    assert.equal(
      e.decide(call({ ...base, task: 'task', callingCountry: 'US' })).rule?.id,
      3,
      'task group beats country',
    );
    assert.equal(e.decide(call({ ...base, callingCountry: 'US' })).rule?.id, 4, 'country beats nothing');
    assert.equal(
      e.decide(call({ ...base, calling: '12125550100' })).rule?.id,
      4,
      'the calling country is derived from the number when the call does not carry one',
    );
    assert.equal(e.decide(call(base)).rule?.id, 6, 'of equals, the newer');
  });

  it('block wins a tie with allow; expired rules never match; no match takes the tenant default', () => {
    const e = DecisionEngine.fromRules(
      [
        rule({ id: 1, called: '5551234', action: 'allow' }),
        rule({ id: 2, called: '5551234', action: 'block' }),
        rule({ id: 3, called: '5550000', expiresAt: T }),
      ],
      { defaultAction: 'block' },
    );
    assert.equal(e.decide(call({ called: '5551234' })).rule?.id, 2);
    const expired = e.decide(call({ called: '5550000' }));
    assert.equal(expired.rule, null);
    assert.equal(expired.action, 'block');
    assert.match(expired.why, /tenant default is block/);
  });
});
