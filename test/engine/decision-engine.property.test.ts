import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { CallContext } from '../../src/domain/call-context.js';
import { ANONYMOUS } from '../../src/domain/number.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { referenceDecide } from '../support/reference-decide.js';

const NOW = 1_800_000_000_000;

// A small alphabet and short numbers make overlaps (prefixes of every length, ranges, holes) common.
const digit = fc.constantFrom('1', '2');
const numberArb = fc.array(digit, { minLength: 1, maxLength: 4 }).map((d) => d.join(''));
const callDigit = fc.constantFrom('1', '2', '3');
const callNumberArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(callDigit, { minLength: 1, maxLength: 5 }).map((d) => d.join('')) },
  { weight: 1, arbitrary: fc.constant(ANONYMOUS) },
  { weight: 1, arbitrary: fc.constantFrom('*67', '12#', '') },
);
const patternArb = fc.oneof(
  { weight: 3, arbitrary: numberArb },
  { weight: 1, arbitrary: numberArb.map((n) => `_${n}!`) },
  { weight: 1, arbitrary: numberArb.map((n) => `_${n}.`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(digit, { maxLength: 4 }), fc.integer({ min: 1, max: 3 }))
      .map(([d, x]) => `_${d.join('')}${'X'.repeat(x)}`),
  },
);
/** `arb` in `present` of `outOf` cases, otherwise undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, present: number, outOf: number) =>
  fc.oneof(
    { weight: outOf - present, arbitrary: fc.constant(undefined) },
    { weight: present, arbitrary: arb },
  );
const maybe = <T>(arb: fc.Arbitrary<T>) => sometimes(arb, 1, 2);
const scopeValue = fc.constantFrom('a', 'b');

const ruleBodyArb = fc
  .record({
    called: maybe(patternArb),
    calling: sometimes(
      fc.oneof({ weight: 6, arbitrary: patternArb }, { weight: 1, arbitrary: fc.constant('anonymous') }),
      1,
      2,
    ),
    direction: fc.constantFrom('inbound', 'outbound', 'both'),
    action: fc.constantFrom('block', 'allow'),
    groupId: sometimes(fc.constantFrom('g1', 'g2'), 1, 3),
    typeId: maybe(fc.constantFrom('t1', 't2')),
    sbc: sometimes(scopeValue, 1, 8),
    provider: sometimes(scopeValue, 1, 8),
    customerGroup: sometimes(scopeValue, 1, 8),
    user: sometimes(scopeValue, 1, 8),
    callingCountry: sometimes(fc.constantFrom('US', 'LV'), 1, 8),
    expiresAt: sometimes(
      fc.integer({ min: -5, max: 5 }).map((s) => NOW + s * 1000),
      1,
      3,
    ),
    updatedAt: fc.integer({ min: 0, max: 3 }).map((s) => NOW - 10_000 + s * 1000),
  })
  .filter((r) => r.called !== undefined || r.calling !== undefined);

const rulesArb = fc
  .array(ruleBodyArb, { minLength: 1, maxLength: 40, size: 'medium' })
  .map((bodies) => bodies.map((b, i) => strip({ ...b, id: i + 1 }) as Rule));

/** Call numbers drawn mostly from the rules' own numbers and prefixes (extended by 0-2 digits), so rules collide. */
function numberNear(rules: readonly Rule[]): fc.Arbitrary<string> {
  const seeds = rules
    .flatMap((r) => [r.called, r.calling])
    .filter((p): p is string => p !== undefined && p !== 'anonymous');
  const stems = seeds.map((p) => p.replace(/^_/, '').replace(/[X!.]+$/, ''));
  if (stems.length === 0) return callNumberArb;
  const near = fc
    .tuple(fc.constantFrom(...stems), fc.array(callDigit, { maxLength: 2 }))
    .map(([stem, more]) => stem + more.join(''));
  return fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: callNumberArb });
}

const callArbFor = (rules: readonly Rule[]) =>
  fc.record({
    called: numberNear(rules),
    calling: numberNear(rules),
    direction: fc.constantFrom('inbound', 'outbound'),
    task: maybe(fc.constantFrom('taskA', 'taskB')),
    sbc: maybe(scopeValue),
    provider: maybe(scopeValue),
    customerGroup: maybe(scopeValue),
    user: maybe(scopeValue),
    callingCountry: maybe(fc.constantFrom('US', 'LV')),
    at: fc.integer({ min: -3, max: 3 }).map((s) => NOW + s * 1000),
  });

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const bindings: [string, string[]][] = [
  ['taskA', ['g1']],
  ['taskB', ['g1', 'g2']],
];
const bindingMap = new Map(bindings.map(([t, g]) => [t, new Set(g)]));

function agree(
  engine: DecisionEngine,
  rules: Rule[],
  calls: CallContext[],
  defaultAction: 'allow' | 'block',
): void {
  for (const ctx of calls) {
    const got = engine.decide(ctx);
    assert.equal(got.ruleId, got.rule?.id ?? null, 'ruleId is the winning rule');
    const want = referenceDecide(rules, ctx, { bindings: bindingMap, defaultAction });
    assert.deepEqual(
      { action: got.action, ruleId: got.rule?.id ?? null, runnerUpId: got.runnerUp?.id ?? null },
      want,
      `call ${JSON.stringify(ctx)}`,
    );
  }
}

/**
 * The same rules and calls with every number lengthened by a stem: 7 digits puts most numbers in the
 * 8-16 characters of a carrier number (the packing's unrolled path), 12 digits pushes many past the
 * 16 a key holds. `anonymous` and the empty number stay as they are.
 */
function lengthened(text: string | undefined, stem: string): string | undefined {
  if (text === undefined || text === ANONYMOUS || text === '') return text;
  return text.startsWith('_') ? `_${stem}${text.slice(1)}` : stem + text;
}

describe('the compiled index agrees with the reference', () => {
  it('on random rule sets and calls (prefixes, ranges, holes, scopes, groups, expiry, both directions)', () => {
    fc.assert(
      fc.property(
        rulesArb.chain((rules) =>
          fc.tuple(fc.constant(rules), fc.array(callArbFor(rules), { minLength: 1, maxLength: 25 })),
        ),
        fc.constantFrom('allow', 'block'),
        ([rules, calls], defaultAction) => {
          const engine = DecisionEngine.fromRules(rules, { bindings, defaultAction });
          agree(engine, rules, calls as CallContext[], defaultAction);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('on carrier-length numbers (8-16 characters, and longer than a key)', () => {
    fc.assert(
      fc.property(
        rulesArb.chain((rules) =>
          fc.tuple(fc.constant(rules), fc.array(callArbFor(rules), { minLength: 1, maxLength: 25 })),
        ),
        fc.constantFrom('1555012', '155501234567'),
        ([shortRules, shortCalls], stem) => {
          const rules = shortRules.map((r) =>
            strip({ ...r, called: lengthened(r.called, stem), calling: lengthened(r.calling, stem) }),
          );
          const calls = shortCalls.map((c) => ({
            ...c,
            called: lengthened(c.called, stem) as string,
            calling: lengthened(c.calling, stem) as string,
          }));
          const engine = DecisionEngine.fromRules(rules, { bindings });
          agree(engine, rules, calls as CallContext[], 'allow');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('after deltas (upserts and deletes applied to a built engine)', () => {
    fc.assert(
      fc.property(
        rulesArb.chain((rules) =>
          fc.tuple(fc.constant(rules), fc.array(callArbFor(rules), { minLength: 1, maxLength: 20 })),
        ),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), ruleBodyArb), { maxLength: 10 }),
        ([rules, calls], changes) => {
          let engine = DecisionEngine.fromRules(rules, { bindings });
          const truth = new Map(rules.map((r) => [r.id, r]));
          for (const [isDelete, id, body] of changes) {
            if (isDelete) {
              truth.delete(id);
              engine = engine.withChanges({ deletes: [id] });
            } else {
              const rule = strip({ ...body, id }) as Rule;
              truth.set(id, rule);
              engine = engine.withChanges({ upserts: [rule] });
            }
          }
          agree(engine, [...truth.values()], calls as CallContext[], 'allow');
          agree(engine.compacted(), [...truth.values()], calls as CallContext[], 'allow');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('after a thousand single-rule deltas (the overlay merges its small layer into the large one)', () => {
    const bodies = fc.sample(ruleBodyArb, { numRuns: 1200, seed: 42 });
    const ids = fc.sample(fc.integer({ min: 1, max: 400 }), { numRuns: 1200, seed: 7 });
    let engine = DecisionEngine.fromRules(
      bodies.slice(0, 200).map((b, i) => strip({ ...b, id: i + 1 }) as Rule),
      { bindings },
    );
    const truth = new Map([...engine.rules()].map((r) => [r.id, r as Rule]));
    for (let i = 200; i < 1200; i++) {
      const id = ids[i];
      if (i % 7 === 0) {
        truth.delete(id);
        engine = engine.withChanges({ deletes: [id] });
      } else {
        const rule = strip({ ...bodies[i], id }) as Rule;
        truth.set(id, rule);
        engine = engine.withChanges({ upserts: [rule] });
      }
    }
    const rules = [...truth.values()];
    assert.deepEqual(
      [...engine.rules()].map((r) => r.id).sort((a, b) => a - b),
      rules.map((r) => r.id).sort((a, b) => a - b),
    );
    const calls = fc.sample(callArbFor(rules), { numRuns: 400, seed: 3 });
    agree(engine, rules, calls as CallContext[], 'allow');
  });
});
