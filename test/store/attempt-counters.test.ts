import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../../src/call/call-plan.js';
import { CallScreener } from '../../src/call/call-screener.js';
import { withPolicies } from '../../src/call/policy-decider.js';
import { TaskPolicies } from '../../src/call/task-policies.js';
import { ATTEMPT_TTL_MS } from '../../src/domain/attempt-buckets.js';
import { contactPolicySchema } from '../../src/domain/contact-policy.js';
import { DIGITS_POLICY } from '../../src/domain/number.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { RedisAttemptCounter } from '../../src/store/attempt-counters.js';
import { tenantKeys } from '../../src/store/keys.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const CAP = 5;
const AT = Date.parse('2026-12-04T12:00:00Z');
const policy = contactPolicySchema.parse({
  id: 'five',
  name: 'Five a day',
  zone: 'UTC',
  caps: [{ max: CAP, per: 'day' }],
});
const engine = DecisionEngine.fromRules([]);

/** One call node: its own Redis connection, attempt counter and screener, on a fixed clock. */
function node(redis: TestRedis, tenant: string, name: string) {
  const counter = new RedisAttemptCounter({
    client: redis.client(),
    log: silentLogger,
    node: name,
    mergeMs: 5,
  }).start();
  const decider = withPolicies(
    { policy: DIGITS_POLICY, handling: DEFAULT_CALL_HANDLING, decide: (c) => engine.decide(c) },
    {
      tenant,
      policies: new TaskPolicies(new Map([[policy.id, policy]]), new Map([['camp', [policy.id]]])),
      counter,
      typeOf: () => undefined,
    },
  );
  const screener = new CallScreener(
    { deciderFor: () => decider, fallbackHandling: () => DEFAULT_CALL_HANDLING },
    new MemoryEventSink(),
    () => AT,
  );
  let n = 0;
  return {
    counter,
    /** One outbound attempt to `called`; true when it was let through. */
    attempt: (called: string) =>
      screener.screen({ callId: `${name}-${++n}`, tenant, direction: 'outbound', called, task: 'camp' }).plan
        .result === 'allow',
    seen: (called: string) => {
      let sum = 0;
      for (const [f, v] of counter.tallyOf(tenant, `\u001f${called}`) ?? []) if (f.startsWith('d')) sum += v;
      return sum;
    },
  };
}

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
};

describe.skipIf(skipWithoutRedis)('attempt counting across three nodes through Redis', () => {
  let redis: TestRedis;
  let tenant: string;
  let nodes: Array<ReturnType<typeof node>>;
  beforeAll(async () => {
    redis = await startRedis();
    tenant = redis.tenant('attempts');
    nodes = ['a', 'b', 'c'].map((name) => node(redis, tenant, name));
    await until('every node loaded the counters', () => nodes.every((n) => n.counter.ready(tenant)));
  });
  afterAll(async () => {
    await Promise.all(nodes?.map((n) => n.counter.stop()) ?? []);
    await redis?.stop();
  });

  it('attempts spread over the nodes, each seen by all before the next: exactly the cap gets through', async () => {
    const number = '4420794600001';
    let allowed = 0;
    for (let i = 0; i < CAP + 4; i++) {
      if (nodes[i % 3]!.attempt(number)) allowed++;
      await until('all nodes see every attempt', () => nodes.every((n) => n.seen(number) === allowed));
    }
    assert.equal(allowed, CAP);
  });

  it('simultaneous attempts on all nodes overshoot by at most the attempts on the other nodes of the last round', async () => {
    const number = '4420794600002';
    let allowed = 0;
    for (let round = 0; round < CAP; round++) {
      // One attempt on each node in the same turn of the event loop: none can have seen the others'.
      for (const n of nodes) if (n.attempt(number)) allowed++;
      await until('all nodes see every attempt', () => nodes.every((n) => n.seen(number) === allowed));
    }
    assert.ok(allowed >= CAP && allowed <= CAP + 2, `allowed ${allowed}, cap ${CAP}`);
    // Once merged, no node lets another through.
    for (const n of nodes) assert.equal(n.attempt(number), false);
  });

  it('a node started later loads the counts and refuses at once; the counters expire with their window', async () => {
    const late = node(redis, tenant, 'd');
    try {
      await until('the late node loaded', () => late.counter.ready(tenant));
      assert.equal(late.seen('4420794600001'), CAP);
      assert.equal(late.attempt('4420794600001'), false);
      const ttl = await redis.client().pttl(tenantKeys(tenant).attempts('\u001f4420794600001'));
      assert.ok(ttl > 0 && ttl <= ATTEMPT_TTL_MS, `ttl ${ttl}`);
    } finally {
      await late.counter.stop();
    }
  });
});
