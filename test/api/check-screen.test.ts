import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { view, viewJson } from '../../src/api/routes/check-routes.js';
import { toCallContext } from '../../src/domain/call-context.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import type { RuleDraft } from '../../src/store/rule-repository.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));

/** Rules over a small number space so that lists hit them often. */
const ruleArb: fc.Arbitrary<RuleDraft> = fc
  .record({
    kind: fc.constantFrom('exact', 'bang', 'dot', 'range'),
    body: digits(6).map((d) => `155${d}`),
    cut: fc.integer({ min: 3, max: 7 }),
    direction: fc.constantFrom('inbound', 'outbound', 'both'),
    action: fc.constantFrom('block', 'block', 'allow'),
    group: fc.constantFrom(undefined, 'g1', 'g2'),
    type: fc.constantFrom(undefined, 'wrap', 'pop'),
  })
  .map((r) => {
    const prefix = r.body.slice(0, r.cut);
    const called =
      r.kind === 'exact'
        ? r.body
        : r.kind === 'bang'
          ? `_${prefix}!`
          : r.kind === 'dot'
            ? `_${prefix}.`
            : `_${prefix}${'X'.repeat(r.body.length - r.cut)}`;
    const draft: RuleDraft = { called, direction: r.direction, action: r.action } as RuleDraft;
    return {
      ...draft,
      ...(r.group ? { groupId: r.group } : {}),
      ...(r.type ? { typeId: r.type } : {}),
    } as RuleDraft;
  });

describe.skipIf(skipWithoutRedis)('check and screen against the engine', () => {
  let h: ApiHarness;
  let tenant: { id: string; admin: string };
  let engine: DecisionEngine;
  let numbers: string[];
  beforeAll(async () => {
    h = await startApi();
    tenant = await h.tenant('screen');
    const k = tenant.admin;
    for (const g of ['g1', 'g2']) await h.call('PUT', `/v1/groups/${g}`, k, { name: g });
    await h.call('PUT', '/v1/types/wrap', k, { name: 'W', operation: 'auto_wrap_up', businessResult: 'DNC' });
    await h.call('PUT', '/v1/types/pop', k, {
      name: 'P',
      operation: 'pop_up',
      promptContent: 'p',
      jumpAddress: 'j',
    });
    await h.call('PUT', '/v1/tasks/t1/groups', k, { groups: ['g1'] });
    const drafts = fc.sample(ruleArb, { numRuns: 1500, seed: 7 });
    await h.deps.rules.writeMany(tenant.id, drafts, { duplicates: 'skip' });
    const version = await h.deps.rules.publishReload(tenant.id);
    assert.ok(await h.deps.registry.ensure(tenant.id).waitFor(version, 30_000));
    const rules: Rule[] = [];
    for await (const batch of h.deps.rules.scan(tenant.id)) rules.push(...batch);
    engine = DecisionEngine.fromRules(rules, {
      types: await h.deps.catalog.listTypes(tenant.id),
      bindings: await h.deps.catalog.bindings(tenant.id),
    });
    numbers = fc.sample(
      digits(6).map((d) => `155${d}`),
      { numRuns: 3000, seed: 11 },
    );
    numbers.push(...rules.slice(0, 300).flatMap((r) => (r.called?.startsWith('_') ? [] : [r.called!])));
  });
  afterAll(async () => {
    await h?.stop();
  });

  const expected = (task: string | undefined) =>
    numbers.flatMap((n, index) => {
      const d = engine.decide(
        toCallContext({ called: n, direction: 'outbound', task }, { mode: 'digits' }, Date.now()),
      );
      return d.action === 'block' ? [{ index, ruleId: d.rule?.id ?? 0, operation: d.outcome.operation }] : [];
    });
  /** The JSON answer's entries as the API lists them: index, number, ruleId, operation, typeId, businessResult. */
  const expectedEntries = (task: string | undefined) =>
    numbers.flatMap((number, index) => {
      const d = engine.decide(
        toCallContext({ called: number, direction: 'outbound', task }, { mode: 'digits' }, Date.now()),
      );
      if (d.action !== 'block') return [];
      const { typeId } = d.rule ?? {};
      const { operation, businessResult } = d.outcome;
      return [{ index, number, ruleId: d.rule?.id ?? 0, operation, typeId, businessResult }];
    });

  it('screens a list exactly as the engine decides each number (JSON)', async () => {
    for (const task of ['t1', undefined]) {
      const res = await h.call('POST', '/v1/screen', tenant.admin, { taskId: task, numbers });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      const body = res.json();
      const want = expected(task);
      assert.ok(want.length > 50 && want.length < numbers.length, `a mixed list (${want.length})`);
      assert.deepEqual(
        body.results.map((r: { index: number; ruleId: number; operation: string }) => ({
          index: r.index,
          ruleId: r.ruleId,
          operation: r.operation,
        })),
        want,
      );
      assert.equal(body.blocked, want.length);
      assert.equal(body.allowed, numbers.length - want.length);
      // the bytes: field order and all
      const answer = { total: numbers.length, blocked: want.length, allowed: numbers.length - want.length };
      assert.equal(
        res.body,
        JSON.stringify({ taskId: task, ...answer, invalid: 0, results: expectedEntries(task), errors: [] }),
      );
    }
  });

  it('gives the same answer for CSV and NDJSON bodies, streamed back in kind', async () => {
    const want = expected('t1');
    const csv = await h.call(
      'POST',
      '/v1/screen?taskId=t1',
      tenant.admin,
      `number\n${numbers.join('\n')}\n`,
      {
        'content-type': 'text/csv',
      },
    );
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const rows = csv.body.trim().split('\n').slice(1);
    assert.deepEqual(
      rows.map((line) => Number(line.split(',')[0])),
      want.map((w) => w.index),
    );
    const nd = await h.call(
      'POST',
      '/v1/screen?taskId=t1',
      tenant.admin,
      numbers.map((n, i) => JSON.stringify(i % 2 ? n : { number: n })).join('\n'),
      { 'content-type': 'application/x-ndjson' },
    );
    const lines = nd.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const counts = lines.pop().counts;
    assert.equal(counts.blocked, want.length);
    assert.deepEqual(
      lines.map((l) => l.ruleId),
      want.map((w) => w.ruleId),
    );
  });

  it('lists in a CSV answer the numbers it could not screen, as the JSON answer does', async () => {
    const body = 'number\n12a4\n12025550123\n'.concat('9'.repeat(40), '\n');
    const csv = await h.call('POST', '/v1/screen?taskId=t1', tenant.admin, body, {
      'content-type': 'text/csv',
    });
    const json = await h.call('POST', '/v1/screen?taskId=t1', tenant.admin, {
      numbers: ['12a4', '12025550123', '9'.repeat(40)],
    });
    const errors = json.json().errors as Array<{ index: number; number: string; message: string }>;
    assert.equal(errors.length, 2);
    const rows = parse(csv.body, { columns: true }) as Array<Record<string, string>>;
    const invalid = rows.filter((row) => row.operation === 'invalid');
    assert.deepEqual(
      invalid.map((row) => [Number(row.index), row.number, row.reason]),
      errors.map((e) => [e.index, e.number, e.message]),
    );
  });

  it('writes the check answer as JSON.stringify would, for every kind of decision', async () => {
    let blocks = 0;
    for (const n of numbers) {
      for (const task of ['t1', undefined]) {
        const d = engine.decide(
          toCallContext({ called: n, direction: 'outbound', task }, { mode: 'digits' }, Date.now()),
        );
        if (d.action === 'block') blocks++;
        const rule = d.rule ? ((await h.deps.rules.get(tenant.id, d.rule.id)) ?? null) : null;
        assert.equal(viewJson(d, rule), JSON.stringify(view(d, rule)), n);
        // twice: the second answer comes from the remembered JSON of the rule and outcome
        assert.equal(viewJson(d, rule), JSON.stringify(view(d, rule)), n);
      }
    }
    assert.ok(blocks > 100, `blocks among the checks (${blocks})`);
    // a contact policy's refusal (the rules allowed the call) keeps its policy in the answer
    const allowed = engine.decide(
      toCallContext({ called: '19999999999', direction: 'outbound' }, { mode: 'digits' }, Date.now()),
    );
    const refused = {
      ...allowed,
      action: 'block' as const,
      policy: {
        id: 'hours',
        name: 'US hours',
        reason: '21:30 America/Chicago is outside Mon-Fri 08:00-21:00',
      },
    };
    assert.equal(viewJson(refused, null), JSON.stringify(view(refused, null)));
  });

  it('checks single calls as the engine does, with the stored rule and why', async () => {
    for (const n of numbers.slice(0, 200)) {
      for (const task of ['t1', 't2']) {
        const res = (
          await h.call('POST', '/v1/check', tenant.admin, { called: n, direction: 'outbound', task })
        ).json();
        const d = engine.decide(
          toCallContext({ called: n, direction: 'outbound', task }, { mode: 'digits' }, Date.now()),
        );
        assert.equal(res.action, d.action, n);
        assert.equal(res.rule?.id ?? null, d.rule?.id ?? null, n);
        assert.equal(res.why, d.why);
        assert.deepEqual(res.outcome, JSON.parse(JSON.stringify(d.outcome)));
      }
    }
  });
});
