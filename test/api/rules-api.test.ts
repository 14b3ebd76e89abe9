import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Rule } from '../../src/domain/rule.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

describe.skipIf(skipWithoutRedis)('rules API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const setup = async () => {
    const t = await h.tenant('rules');
    const k = t.admin;
    assert.equal((await h.call('PUT', '/v1/ous/east', k, { name: 'East' })).statusCode, 200);
    assert.equal(
      (await h.call('PUT', '/v1/groups/dnc', k, { name: 'Do not call', ou: 'east' })).statusCode,
      200,
    );
    assert.equal(
      (
        await h.call('PUT', '/v1/types/wrap', k, {
          name: 'Wrap',
          operation: 'auto_wrap_up',
          businessResult: 'DNC',
        })
      ).statusCode,
      200,
    );
    return t;
  };

  it('creates, reads, replaces and deletes a rule', async () => {
    const { admin: k } = await setup();
    const created = await h.call('POST', '/v1/rules', k, {
      called: '+1 (404) 526-6123',
      direction: 'outbound',
      groupId: 'dnc',
      typeId: 'wrap',
      ou: 'east',
      remarks: 'asked not to be called',
      validity: { value: 3, unit: 'day' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const rule = created.json().rule as Rule;
    assert.equal(rule.called, '14045266123');
    assert.ok(rule.expiresAt && rule.expiresAt > Date.now());
    const read = await h.call('GET', `/v1/rules/${rule.id}`, k);
    assert.deepEqual(read.json(), rule);
    const replaced = await h.call('PUT', `/v1/rules/${rule.id}`, k, { called: '_1404!', action: 'allow' });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.equal(replaced.json().rule.called, '_1404!');
    assert.equal(replaced.json().rule.groupId, undefined);
    assert.equal((await h.call('DELETE', `/v1/rules/${rule.id}`, k)).statusCode, 204);
    assert.equal((await h.call('GET', `/v1/rules/${rule.id}`, k)).statusCode, 404);
    assert.equal((await h.call('DELETE', `/v1/rules/${rule.id}`, k)).statusCode, 404);
  });

  it('rejects, skips or overrides a duplicate as asked', async () => {
    const { admin: k } = await setup();
    const body = { called: '_1555!', direction: 'both', remarks: 'first' };
    const first = await h.call('POST', '/v1/rules', k, body);
    assert.equal(first.statusCode, 201);
    const id = first.json().rule.id;
    const rejected = await h.call('POST', '/v1/rules', k, { ...body, remarks: 'second' });
    assert.equal(rejected.statusCode, 409);
    assert.equal(rejected.json().code, 'CG_ERR_DUPLICATE_RULE');
    assert.match(rejected.json().message, /skip|override/);
    const skipped = await h.call('POST', '/v1/rules?duplicates=skip', k, { ...body, remarks: 'second' });
    assert.equal(skipped.statusCode, 200);
    assert.equal(skipped.json().status, 'skipped');
    assert.equal(skipped.json().rule.remarks, 'first');
    const overridden = await h.call('POST', '/v1/rules?duplicates=override', k, {
      ...body,
      remarks: 'third',
    });
    assert.equal(overridden.statusCode, 201);
    assert.equal(overridden.json().status, 'replaced');
    const list = await h.call('GET', '/v1/rules?number=_1555!', k);
    assert.equal(list.json().total, 1);
    assert.equal(list.json().items[0].remarks, 'third');
    assert.notEqual(list.json().items[0].id, undefined);
    assert.ok(id);
  });

  it('refuses a group, type or OU that does not exist, and writes nothing', async () => {
    const { admin: k } = await setup();
    const res = await h.call('POST', '/v1/rules', k, { called: '123', groupId: 'nope', typeId: 'gone' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /group "nope".*type "gone"/);
    assert.equal((await h.call('GET', '/v1/rules', k)).json().total, 0);
  });

  it('queries by number exactly, by every pattern that matches it, and by prefix', async () => {
    const { admin: k } = await setup();
    for (const called of ['14045266123', '_1404!', '_14045266XXX', '_1404526.', '_1555!', '14045260000']) {
      assert.equal((await h.call('POST', '/v1/rules', k, { called })).statusCode, 201);
    }
    assert.equal(
      (await h.call('POST', '/v1/rules', k, { calling: 'anonymous', direction: 'inbound' })).statusCode,
      201,
    );
    const called = (r: { items: Rule[] }) => r.items.map((x) => x.called ?? x.calling).sort();
    const exact = (await h.call('GET', '/v1/rules?number=14045266123', k)).json();
    assert.deepEqual(called(exact), ['14045266123']);
    const pattern = (await h.call('GET', `/v1/rules?number=${encodeURIComponent('_14045266XXX')}`, k)).json();
    assert.deepEqual(called(pattern), ['_14045266XXX']);
    const matching = (await h.call('GET', '/v1/rules?number=14045266123&match=matching', k)).json();
    assert.deepEqual(called(matching), ['14045266123', '_1404!', '_1404526.', '_14045266XXX']);
    const prefix = (await h.call('GET', '/v1/rules?number=140452&match=prefix', k)).json();
    assert.deepEqual(called(prefix), ['14045260000', '14045266123', '_1404526.', '_14045266XXX']);
    const anon = (await h.call('GET', '/v1/rules?number=anonymous&side=calling', k)).json();
    assert.deepEqual(called(anon), ['anonymous']);
    const bad = await h.call('GET', '/v1/rules?number=_14X5', k);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'CG_ERR_PATTERN_INVALID');
  });

  it('filters by group, type, OU, direction, action and expiry window', async () => {
    const { admin: k } = await setup();
    await h.call('POST', '/v1/rules', k, {
      called: '1',
      groupId: 'dnc',
      typeId: 'wrap',
      ou: 'east',
      direction: 'outbound',
    });
    await h.call('POST', '/v1/rules', k, {
      called: '2',
      action: 'allow',
      validity: { value: 2, unit: 'hour' },
    });
    await h.call('POST', '/v1/rules', k, { called: '3', validity: { value: 5, unit: 'year' } });
    const ids = async (q: string) =>
      ((await h.call('GET', `/v1/rules?${q}`, k)).json().items as Rule[]).map((r) => r.called);
    assert.deepEqual(await ids('group=dnc'), ['1']);
    assert.deepEqual(await ids('type=wrap'), ['1']);
    assert.deepEqual(await ids('ou=east'), ['1']);
    assert.deepEqual(await ids('direction=outbound'), ['1']);
    assert.deepEqual(await ids('action=allow'), ['2']);
    assert.deepEqual(await ids('permanent=true'), ['1']);
    const soon = new Date(Date.now() + 86_400_000).toISOString();
    assert.deepEqual(await ids(`expiresBefore=${soon}`), ['2']);
    assert.deepEqual(await ids(`expiresAfter=${soon}`), ['3']);
    assert.deepEqual(await ids('sort=-expiresAt'), ['1', '3', '2']);
  });

  it('pages stably: every rule once, even when rules are added between pages', async () => {
    const { admin: k } = await setup();
    for (let i = 0; i < 23; i++)
      await h.call('POST', '/v1/rules', k, { called: `1800${String(i).padStart(4, '0')}` });
    for (const sort of ['id', '-id', 'called', '-updatedAt']) {
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const q = `limit=5&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = (await h.call('GET', `/v1/rules?${q}`, k)).json();
        assert.ok(res.total >= 23);
        seen.push(...res.items.map((r: Rule) => r.id));
        if (page === 1) await h.call('POST', '/v1/rules', k, { called: `1900${sort.length}${page}` });
        cursor = res.next;
        if (!cursor) break;
      }
      assert.equal(new Set(seen).size, seen.length, `no rule twice (${sort})`);
      const all = (await h.call('GET', '/v1/rules?limit=1000', k)).json().items.map((r: Rule) => r.id);
      const original = all.filter((id: number) => id <= 23);
      for (const id of original) assert.ok(seen.includes(id), `rule ${id} seen (${sort})`);
    }
    const bad = await h.call('GET', '/v1/rules?cursor=garbage', k);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /cursor/);
  });

  it('bulk-deletes what a query selects, and refuses an empty query', async () => {
    const { admin: k } = await setup();
    await h.call('POST', '/v1/rules', k, { called: '1', groupId: 'dnc' });
    await h.call('POST', '/v1/rules', k, { called: '2', groupId: 'dnc' });
    await h.call('POST', '/v1/rules', k, { called: '3' });
    const empty = await h.call('POST', '/v1/rules/bulk-delete', k, {});
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().message, /all/);
    const res = await h.call('POST', '/v1/rules/bulk-delete', k, { group: 'dnc' });
    assert.deepEqual(res.json(), { deleted: 2 });
    assert.equal((await h.call('GET', '/v1/rules', k)).json().total, 1);
  });

  it('blocklists a number for a task through its group, and check and screen say so', async () => {
    const { admin: k } = await setup();
    const res = await h.call('POST', '/v1/blocklist', k, {
      number: '15550001111',
      group: 'dnc',
      type: 'wrap',
      ou: 'east',
      validity: { value: 1, unit: 'month' },
      remarks: 'complaint',
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().rule.direction, 'outbound');
    const pattern = await h.call('POST', '/v1/blocklist', k, {
      number: '_1555!',
      group: 'dnc',
      type: 'wrap',
    });
    assert.equal(pattern.statusCode, 400);
    const again = await h.call('POST', '/v1/blocklist', k, {
      number: '15550001111',
      group: 'dnc',
      type: 'wrap',
    });
    assert.equal(again.statusCode, 409);
    const over = await h.call('POST', '/v1/blocklist', k, {
      number: '15550001111',
      group: 'dnc',
      type: 'wrap',
      override: true,
    });
    assert.equal(over.json().status, 'replaced');

    const unbound = await h.call('POST', '/v1/check', k, {
      called: '15550001111',
      direction: 'outbound',
      task: 'c1',
    });
    assert.equal(unbound.json().action, 'allow');
    const bind = await h.call('PUT', '/v1/tasks/c1/groups', k, { groups: ['dnc', 'dnc'] });
    assert.deepEqual(bind.json(), { taskId: 'c1', groups: ['dnc'] });
    assert.deepEqual((await h.call('GET', '/v1/tasks/c1/groups', k)).json(), {
      taskId: 'c1',
      groups: ['dnc'],
    });
    const missing = await h.call('PUT', '/v1/tasks/c1/groups', k, { groups: ['ghost'] });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().message, /ghost/);

    const check = (
      await h.call('POST', '/v1/check', k, { called: '15550001111', direction: 'outbound', task: 'c1' })
    ).json();
    assert.equal(check.action, 'block');
    assert.equal(check.outcome.operation, 'auto_wrap_up');
    assert.equal(check.outcome.businessResult, 'DNC');
    assert.equal(check.rule.id, over.json().rule.id);
    assert.equal(check.rule.ou, undefined);
    assert.match(check.why, /rule/);
    const screen = (
      await h.call('POST', '/v1/screen', k, { taskId: 'c1', numbers: ['1 555 000 1111', '15550002222', 'x'] })
    ).json();
    assert.equal(screen.total, 3);
    assert.equal(screen.blocked, 1);
    assert.equal(screen.invalid, 1);
    assert.equal(screen.results[0].index, 0);
    assert.equal(screen.results[0].businessResult, 'DNC');
    assert.equal(screen.errors[0].index, 2);
  });
});
