import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { LocalAttemptCounter } from '../../src/call/attempt-counter.js';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../../src/call/call-plan.js';
import { CallScreener, type DeciderSource, type TenantDecider } from '../../src/call/call-screener.js';
import type { IncomingCall } from '../../src/call/incoming-call.js';
import { withPolicies } from '../../src/call/policy-decider.js';
import { TaskPolicies } from '../../src/call/task-policies.js';
import type { BlocklistType } from '../../src/domain/blocklist-type.js';
import { contactPolicySchema } from '../../src/domain/contact-policy.js';
import { DIGITS_POLICY } from '../../src/domain/number.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';

const wrap: BlocklistType = {
  id: 'cap',
  name: 'Cap',
  operation: 'auto_wrap_up',
  businessResult: 'attempt cap reached',
};
const capped = contactPolicySchema.parse({
  id: 'three-a-day',
  name: 'Three a day',
  caps: [{ max: 3, per: 'day' }],
  typeId: 'cap',
});

/** A screener over one tenant whose task "camp" is bound to the cap, on a fixed clock. */
function screenerAt(clock: { now: number }) {
  const engine = DecisionEngine.fromRules([], { types: [wrap] });
  const rules: TenantDecider = {
    policy: DIGITS_POLICY,
    handling: DEFAULT_CALL_HANDLING,
    decide: (c) => engine.decide(c),
  };
  const counter = new LocalAttemptCounter();
  const decider = withPolicies(rules, {
    tenant: 'acme',
    policies: new TaskPolicies(new Map([[capped.id, capped]]), new Map([['camp', [capped.id]]])),
    counter,
    typeOf: (id) => (id === wrap.id ? wrap : undefined),
  });
  const source: DeciderSource = {
    deciderFor: (t) => (t === 'acme' ? decider : undefined),
    fallbackHandling: () => DEFAULT_CALL_HANDLING,
  };
  const events = new MemoryEventSink();
  return { screener: new CallScreener(source, events, () => clock.now), events };
}

let n = 0;
const call = (over: Partial<IncomingCall> = {}): IncomingCall => ({
  callId: `c${++n}`,
  tenant: 'acme',
  direction: 'outbound',
  called: '13125550100',
  task: 'camp',
  ...over,
});

describe('screening with contact policies', () => {
  it('the 4th screened attempt of the local day is refused, wrapped up with the policy type, and says why', () => {
    const clock = { now: Date.parse('2026-12-04T20:05:00Z') }; // Fri 14:05 in Chicago
    const { screener, events } = screenerAt(clock);
    for (let i = 0; i < 3; i++) assert.equal(screener.screen(call()).plan.result, 'allow');
    const fourth = screener.screen(call());
    assert.equal(fourth.plan.result, 'block');
    assert.equal(fourth.decision?.policy?.reason, '4th attempt today, cap 3');
    assert.match(
      fourth.decision?.why ?? '',
      /^contact policy "three-a-day" refuses the call: 4th attempt today, cap 3/,
    );
    assert.ok(
      fourth.plan.variables.some(
        ([k, v]) => k === 'CALLGUARD_BUSINESS_RESULT' && v === 'attempt cap reached',
      ),
    );
    assert.equal(events.events.at(-1)?.type, 'call.wrapped_up');
    // Refused attempts do not count; the next local day (06:00 UTC is midnight in Chicago) starts again.
    clock.now = Date.parse('2026-12-05T06:00:00Z');
    assert.equal(screener.screen(call()).plan.result, 'allow');
  });

  it('inbound calls and calls of other tasks are neither checked nor counted', () => {
    const clock = { now: Date.parse('2026-12-04T20:05:00Z') };
    const { screener } = screenerAt(clock);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        screener.screen(call({ direction: 'inbound', calling: '13125550100' })).plan.result,
        'allow',
      );
      assert.equal(screener.screen(call({ task: 'other' })).plan.result, 'allow');
    }
    for (let i = 0; i < 3; i++) assert.equal(screener.screen(call()).plan.result, 'allow');
    assert.equal(screener.screen(call()).plan.result, 'block');
  });
});
