import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

const CHICAGO = '13125550100';
const usHours = {
  name: 'US telemarketing hours',
  window: { hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' }] },
  typeId: 'hours',
};
// 2026-12-04 is a Friday; Chicago is UTC-6.
const FRI_1405_CHICAGO = '2026-12-04T20:05:00Z';
const FRI_2130_CHICAGO = '2026-12-05T03:30:00Z';

describe.skipIf(skipWithoutRedis)('contact policies over the API', () => {
  let h: ApiHarness;
  let t: { id: string; admin: string };
  beforeAll(async () => {
    h = await startApi();
    t = await h.tenant('policies');
    await h.call('PUT', '/v1/types/hours', t.admin, {
      name: 'Outside hours',
      operation: 'auto_wrap_up',
      businessResult: 'outside calling hours',
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('creates, reads and lists a policy; a bad one is refused with what is accepted', async () => {
    const put = await h.call('PUT', '/v1/contact-policies/us', t.admin, usHours);
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().zone, 'callee');
    assert.equal((await h.call('GET', '/v1/contact-policies/us', t.admin)).json().name, usHours.name);
    assert.deepEqual(
      (await h.call('GET', '/v1/contact-policies', t.admin)).json().items.map((p: { id: string }) => p.id),
      ['us'],
    );
    const bad = await h.call('PUT', '/v1/contact-policies/x', t.admin, {
      name: 'x',
      window: { hours: [{ days: ['fri'], from: '21:00', to: '08:00' }] },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /`from` must be before `to`/);
    const noType = await h.call('PUT', '/v1/contact-policies/x', t.admin, { ...usHours, typeId: 'nope' });
    assert.equal(noType.statusCode, 400);
    assert.match(noType.json().message, /blocklist type "nope" does not exist/);
  });

  it('a bound task gets the policy: check names the policy and the local time, with the type outcome', async () => {
    const missing = await h.call('PUT', '/v1/tasks/camp/policies', t.admin, { policies: ['nope'] });
    assert.equal(missing.statusCode, 400);
    const bind = await h.call('PUT', '/v1/tasks/camp/policies', t.admin, { policies: ['us'] });
    assert.equal(bind.statusCode, 200, bind.body);
    assert.deepEqual((await h.call('GET', '/v1/tasks/camp/policies', t.admin)).json().policies, ['us']);

    const call = { called: CHICAGO, direction: 'outbound', task: 'camp' };
    const inside = await h.call('POST', '/v1/check', t.admin, { ...call, at: FRI_1405_CHICAGO });
    assert.equal(inside.json().action, 'allow', inside.body);
    const outside = (await h.call('POST', '/v1/check', t.admin, { ...call, at: FRI_2130_CHICAGO })).json();
    assert.equal(outside.action, 'block');
    assert.deepEqual(outside.policy, {
      id: 'us',
      name: usHours.name,
      reason: 'Fri 21:30 America/Chicago is outside Mon-Fri 08:00-21:00',
    });
    assert.match(outside.why, /contact policy "us" refuses the call: Fri 21:30 America\/Chicago is outside/);
    assert.equal(outside.outcome.businessResult, 'outside calling hours');
    // Another task, or an inbound call, is not checked against it.
    const other = await h.call('POST', '/v1/check', t.admin, {
      ...call,
      task: 'other',
      at: FRI_2130_CHICAGO,
    });
    assert.equal(other.json().action, 'allow');
  });

  it('an agent confined to its OUs learns the refusal of another OU’s policy, not the policy', async () => {
    for (const ou of ['east', 'west']) await h.call('PUT', `/v1/ous/${ou}`, t.admin, { name: ou });
    assert.equal((await h.call('PATCH', '/v1/params', t.admin, { dataIsolation: true })).statusCode, 200);
    const west = await h.call('PUT', '/v1/contact-policies/west-hours', t.admin, { ...usHours, ou: 'west' });
    assert.equal(west.statusCode, 200, west.body);
    await h.call('PUT', '/v1/tasks/camp-west/policies', t.admin, { policies: ['west-hours'] });
    const key = await h.call('POST', '/v1/keys', t.admin, { role: 'agent', name: 'eve', ous: ['east'] });
    assert.equal(key.statusCode, 201, key.body);
    const call = { called: CHICAGO, direction: 'outbound', task: 'camp-west', at: FRI_2130_CHICAGO };
    const seen = (await h.call('POST', '/v1/check', key.json().key, call)).json();
    assert.equal(seen.action, 'block');
    assert.equal(seen.policy, undefined);
    assert.doesNotMatch(JSON.stringify(seen), /west-hours|America\/Chicago|US telemarketing/);
    assert.equal(seen.why, 'a contact policy outside your OUs refuses this call');
    // the tenant admin still sees which policy and why
    assert.equal((await h.call('POST', '/v1/check', t.admin, call)).json().policy.id, 'west-hours');
    const screen = { taskId: 'camp-west', numbers: [CHICAGO], at: FRI_2130_CHICAGO };
    const screened = (await h.call('POST', '/v1/screen', key.json().key, screen)).json();
    assert.equal(screened.blocked, 1, JSON.stringify(screened));
    assert.doesNotMatch(JSON.stringify(screened), /west-hours|America\/Chicago/);
    assert.equal(
      (await h.call('POST', '/v1/screen', t.admin, screen)).json().results[0].policyId,
      'west-hours',
    );
    await h.call('PATCH', '/v1/params', t.admin, { dataIsolation: false });
  });

  it('a blocking rule still wins over the policy (its reason is more specific)', async () => {
    const rule = await h.call('POST', '/v1/rules', t.admin, {
      called: CHICAGO,
      direction: 'outbound',
      action: 'block',
    });
    assert.equal(rule.statusCode, 201, rule.body);
    const res = (
      await h.call('POST', '/v1/check', t.admin, {
        called: CHICAGO,
        direction: 'outbound',
        task: 'camp',
        at: FRI_2130_CHICAGO,
      })
    ).json();
    assert.equal(res.action, 'block');
    assert.equal(res.rule.id, rule.json().rule.id);
    assert.equal(res.policy, undefined);
    assert.equal((await h.call('DELETE', `/v1/rules/${rule.json().rule.id}`, t.admin)).statusCode, 204);
  });

  it('screen takes a planned time and lists policy refusals with their reason', async () => {
    const numbers = [CHICAGO, '12125550100', '14155550100'];
    const at = '2026-12-05T01:30:00Z'; // Fri 20:30 New York, 19:30 Chicago, 17:30 Los Angeles
    const ok = (await h.call('POST', '/v1/screen', t.admin, { taskId: 'camp', numbers, at })).json();
    assert.equal(ok.blocked, 0, JSON.stringify(ok));
    const late = '2026-12-05T03:30:00Z'; // 22:30 New York, 21:30 Chicago, 19:30 Los Angeles
    const answer = await h.call('POST', '/v1/screen', t.admin, { taskId: 'camp', numbers, at: late });
    const res = answer.json();
    assert.equal(res.blocked, 2);
    // the bytes of a refusal's entry, field order included (the rules allowed the call: no rule's type)
    assert.ok(
      answer.body.includes(
        `{"index":0,"number":"${CHICAGO}","ruleId":0,"operation":"auto_wrap_up","businessResult":"outside calling hours","typeId":"hours","policyId":"us","reason":"Fri 21:30 America/Chicago is outside Mon-Fri 08:00-21:00"}`,
      ),
      answer.body,
    );
    assert.deepEqual(
      res.results.map((r: { number: string; policyId: string; reason: string; businessResult: string }) => [
        r.number,
        r.policyId,
        r.reason,
        r.businessResult,
      ]),
      [
        [CHICAGO, 'us', 'Fri 21:30 America/Chicago is outside Mon-Fri 08:00-21:00', 'outside calling hours'],
        [
          '12125550100',
          'us',
          'Fri 22:30 America/New_York is outside Mon-Fri 08:00-21:00',
          'outside calling hours',
        ],
      ],
    );
  });

  it('reaches another node through the change stream', async () => {
    const other = new SyncRegistry({ client: h.redis.client(), log: silentLogger, blockMs: 200 });
    try {
      await other.start([t.id]);
      const decide = () =>
        other.deciderFor(t.id)?.decide({
          called: CHICAGO,
          calling: '',
          direction: 'outbound',
          task: 'late',
          at: Date.parse(FRI_1405_CHICAGO),
        });
      assert.equal(decide()?.action, 'allow');
      const put = await h.call('PUT', '/v1/contact-policies/none', t.admin, {
        name: 'never',
        caps: [{ max: 0, per: 'day' }],
        zone: 'UTC',
      });
      assert.equal(put.statusCode, 200, put.body);
      await h.call('PUT', '/v1/tasks/late/policies', t.admin, { policies: ['none'] });
      for (let i = 0; i < 200 && decide()?.action !== 'block'; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(decide()?.policy?.reason, '1st attempt today, cap 0');
    } finally {
      await other.stop();
    }
  });

  it('deleting a bound policy is refused; unbound it goes, and the audit trail has each change', async () => {
    const refused = await h.call('DELETE', '/v1/contact-policies/us', t.admin);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().message, /bound to task\(s\) "camp"; unbind it first/);
    await h.call('PUT', '/v1/tasks/camp/policies', t.admin, { policies: [] });
    assert.equal((await h.call('DELETE', '/v1/contact-policies/us', t.admin)).statusCode, 204);
    const check = await h.call('POST', '/v1/check', t.admin, {
      called: CHICAGO,
      direction: 'outbound',
      task: 'camp',
      at: FRI_2130_CHICAGO,
    });
    assert.equal(check.json().action, 'allow');
    let kinds: string[] = [];
    for (let i = 0; i < 100; i++) {
      const items = (await h.call('GET', '/v1/audit?kind=policy&limit=100', t.admin)).json().items as Array<{
        action: string;
        target: string;
      }>;
      kinds = items.map((e) => `${e.action}:${e.target}`);
      if (kinds.includes('delete:us')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(kinds.includes('create:us') && kinds.includes('delete:us'), kinds.join(' '));
  });
});
