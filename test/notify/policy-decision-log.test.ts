import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { LocalAttemptCounter } from '../../src/call/attempt-counter.js';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../../src/call/call-plan.js';
import { CallScreener } from '../../src/call/call-screener.js';
import { withPolicies } from '../../src/call/policy-decider.js';
import { TaskPolicies } from '../../src/call/task-policies.js';
import { contactPolicySchema } from '../../src/domain/contact-policy.js';
import { DIGITS_POLICY } from '../../src/domain/number.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionRecorder } from '../../src/notify/decision-recorder.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

describe.skipIf(skipWithoutRedis)('the decision log names the contact policy and its reason', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('a refused attempt is logged with basis policy, the policy id and the reason', async () => {
    const tenant = redis.tenant('policy-log');
    const client = redis.client();
    await client.ping();
    const engine = DecisionEngine.fromRules([]);
    const policy = contactPolicySchema.parse({
      id: 'two',
      name: 'Two a day',
      caps: [{ max: 2, per: 'day' }],
      zone: 'UTC',
    });
    const decider = withPolicies(
      { policy: DIGITS_POLICY, handling: DEFAULT_CALL_HANDLING, decide: (c) => engine.decide(c) },
      {
        tenant,
        policies: new TaskPolicies(new Map([['two', policy]]), new Map([['camp', ['two']]])),
        counter: new LocalAttemptCounter(),
        typeOf: () => undefined,
      },
    );
    const recorder = new DecisionRecorder(client, silentLogger, { node: 'n1', flushMs: 60_000 });
    const screener = new CallScreener(
      { deciderFor: () => decider, fallbackHandling: () => DEFAULT_CALL_HANDLING },
      new MemoryEventSink(),
      () => Date.parse('2026-12-04T12:00:00Z'),
      recorder,
    );
    for (let i = 0; i < 3; i++)
      screener.screen({ callId: `c${i}`, tenant, direction: 'outbound', called: '4420794600', task: 'camp' });
    await recorder.flush();
    const page = await new DecisionLog(client).query(tenant);
    assert.equal(page.items.length, 3, JSON.stringify(page));
    const byCall = new Map(page.items.map((d) => [d.callId, d]));
    assert.equal(byCall.get('c1')?.basis, 'default');
    assert.equal(byCall.get('c1')?.policy, undefined);
    assert.equal(byCall.get('c2')?.action, 'block');
    assert.equal(byCall.get('c2')?.basis, 'policy');
    assert.deepEqual(byCall.get('c2')?.policy, { id: 'two', reason: '3rd attempt today, cap 2' });
  });
});
