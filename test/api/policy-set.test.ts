import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

const set = {
  policies: [
    {
      id: 'us',
      name: 'US hours',
      window: { hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' }] },
    },
    { id: 'three', name: 'Three a day', caps: [{ max: 3, per: 'day' }], countBy: 'task' },
  ],
  tasks: { camp: ['us', 'three'] },
};

describe.skipIf(skipWithoutRedis)('contact policies exported and imported as one document', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('what one tenant exports, another imports, and decides the same', async () => {
    const a = await h.tenant('set-a');
    const b = await h.tenant('set-b');
    const imported = await h.call('POST', '/v1/contact-policy-set', a.admin, set);
    assert.equal(imported.statusCode, 200, imported.body);
    assert.deepEqual(imported.json(), { policies: 2, tasks: 1 });
    const exported = await h.call('GET', '/v1/contact-policy-set', a.admin);
    assert.equal(exported.statusCode, 200);
    assert.deepEqual(exported.json().tasks, { camp: ['us', 'three'] });
    assert.equal((await h.call('POST', '/v1/contact-policy-set', b.admin, exported.json())).statusCode, 200);
    const late = { called: '13125550100', direction: 'outbound', task: 'camp', at: '2026-12-05T03:30:00Z' };
    for (const t of [a, b]) {
      const res = (await h.call('POST', '/v1/check', t.admin, late)).json();
      assert.equal(res.policy?.reason, 'Fri 21:30 America/Chicago is outside Mon-Fri 08:00-21:00');
    }
  });

  it('refuses a document naming a missing type or policy, writing nothing', async () => {
    const t = await h.tenant('set-bad');
    const missingType = await h.call('POST', '/v1/contact-policy-set', t.admin, {
      policies: [{ ...set.policies[0], typeId: 'nope' }],
      tasks: {},
    });
    assert.equal(missingType.statusCode, 400);
    assert.match(missingType.json().message, /policies\.0\.typeId: blocklist type "nope" does not exist/);
    const missingPolicy = await h.call('POST', '/v1/contact-policy-set', t.admin, {
      policies: [],
      tasks: { camp: ['x'] },
    });
    assert.equal(missingPolicy.statusCode, 400);
    assert.match(missingPolicy.json().message, /policy "x" is not in policies/);
    assert.deepEqual((await h.call('GET', '/v1/contact-policy-set', t.admin)).json(), {
      policies: [],
      tasks: {},
    });
  });
});
