import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { SCREEN_SLICE, screenNumbers } from '../../src/api/routes/screen-routes.js';
import type { TenantDecider } from '../../src/call/call-screener.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { DEFAULT_TENANT_PARAMS, handlingOf, policyOf } from '../../src/store/tenant-params.js';
import { loopTurnsDuring } from '../support/loop-turns.js';

const T = 1_800_000_000_000;

describe('screening a 100,000-number list', () => {
  const rules: Rule[] = [
    { id: 1, called: '_1404!', direction: 'outbound', action: 'block', updatedAt: T },
    { id: 2, called: '14045550000', direction: 'outbound', action: 'allow', updatedAt: T },
  ];
  const engine = DecisionEngine.fromRules(rules, { defaultAction: 'allow' });
  const decider: TenantDecider = {
    policy: { ...policyOf(DEFAULT_TENANT_PARAMS), mode: 'digits' },
    handling: handlingOf(DEFAULT_TENANT_PARAMS),
    decide: (ctx) => engine.decide(ctx),
  };
  const numbers = Array.from({ length: 100_000 }, (_, i) =>
    String((i % 2 ? 14_045_550_000 : 15_550_000_000) + i),
  );

  it('lets the event loop run between slices of the list (calls and requests are not held up)', async () => {
    const { result: screened, turns } = await loopTurnsDuring(() =>
      screenNumbers(decider, numbers, undefined, T),
    );
    assert.ok(turns >= numbers.length / SCREEN_SLICE - 1, `the loop ran ${turns} times during the screen`);
    assert.equal(screened.total, 100_000);
  });

  it('decides every number as one decide() of an outbound call would', async () => {
    const screened = await screenNumbers(decider, numbers, undefined, T);
    const blocked = numbers.flatMap((n, index) =>
      engine.decide({ called: n, calling: '', direction: 'outbound', at: T }).action === 'block'
        ? [index]
        : [],
    );
    assert.deepEqual(
      screened.results.map((r) => r.index),
      blocked,
    );
    assert.equal(screened.blocked, blocked.length);
    assert.equal(screened.allowed, numbers.length - blocked.length);
  });

  it("names each block's rule type, whether the engine knows the type or not", async () => {
    const typed = DecisionEngine.fromRules(
      [
        { id: 7, called: '_1555!', direction: 'outbound', action: 'block', typeId: 'wrap', updatedAt: T },
        { id: 8, called: '_1666!', direction: 'outbound', action: 'block', typeId: 'gone', updatedAt: T },
        { id: 9, called: '_1777!', direction: 'outbound', action: 'block', updatedAt: T },
      ],
      { types: [{ id: 'wrap', name: 'W', operation: 'auto_wrap_up', businessResult: 'DNC' }] },
    );
    const screened = await screenNumbers(
      { ...decider, decide: (ctx) => typed.decide(ctx) },
      ['15550001', '16660001', '17770001', '15550002', '18880001'],
      undefined,
      T,
    );
    assert.deepEqual(
      screened.results.map((h) => ({ index: h.index, ruleId: h.ruleId, ...h.outcome })),
      [
        { index: 0, ruleId: 7, operation: 'auto_wrap_up', typeId: 'wrap', businessResult: 'DNC' },
        { index: 1, ruleId: 8, operation: 'none', typeId: 'gone' },
        { index: 2, ruleId: 9, operation: 'none' },
        { index: 3, ruleId: 7, operation: 'auto_wrap_up', typeId: 'wrap', businessResult: 'DNC' },
      ],
    );
  });
});
