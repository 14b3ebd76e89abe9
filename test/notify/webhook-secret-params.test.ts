import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { NotifyInput } from '../../src/notify/notify-event.js';
import { SecretBox } from '../../src/secret-box.js';
import { tenantKeys } from '../../src/store/keys.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { notifyStack, SECRET } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

const popup = (tenant: string, n: number) =>
  ({
    type: 'agent.popup',
    tenant,
    data: {
      callId: `c${n}`,
      direction: 'outbound',
      agent: 'a1',
      number: '1',
      called: '1',
      calling: '2',
      ruleId: 1,
      at: new Date().toISOString(),
    },
  }) as unknown as NotifyInput;

/**
 * Webhook settings that cannot fail silently: URLs without a secret are refused unless the tenant
 * chooses unsigned delivery; the secret is stored encrypted and still read when an earlier version
 * stored it in plain text.
 */
describe.skipIf(skipWithoutRedis)('webhook secret and unsigned delivery through PATCH /v1/params', () => {
  let h: ApiHarness;
  const box = new SecretBox(randomBytes(32));
  const receiver = new WebhookReceiver(SECRET);
  let stack: Awaited<ReturnType<typeof notifyStack>>;

  beforeAll(async () => {
    h = await startApi();
    await receiver.start();
    stack = await notifyStack(h.redis, { box });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver.stop();
    await h?.stop();
  });

  const tenantWithKey = async (label: string) => {
    const t = await h.tenant(label);
    // An operator parameter: set as the operator would, not with the tenant's key.
    await h.deps.tenants.setParams(t.id, { allowPrivateWebhookTargets: true });
    return t;
  };
  const storedParams = async (tenant: string) =>
    (await h.deps.client.hget(tenantKeys(tenant).tenant, 'params')) ?? '';

  it('refuses webhook URLs without a secret, naming webhookSecret, and says how to choose unsigned delivery', async () => {
    const t = await tenantWithKey('half');
    const res = await h.call('PATCH', '/v1/params', t.admin, {
      webhooks: { agentDesktopUrl: receiver.url('/half') },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().message, /webhookSecret/);
    assert.match(res.json().message, /unsignedWebhooks/);
    assert.equal((await h.call('GET', '/v1/params', t.admin)).json().webhooks.agentDesktopUrl, undefined);
    // clearing the secret of a configured tenant is the same half-configuration
    const ok = await h.call('PATCH', '/v1/params', t.admin, {
      webhooks: { agentDesktopUrl: receiver.url('/half') },
      webhookSecret: SECRET,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const cleared = await h.call('PATCH', '/v1/params', t.admin, { webhookSecret: null });
    assert.equal(cleared.statusCode, 400);
    assert.match(cleared.json().message, /webhookSecret/);
    // a tenant created with the system key is held to the same rule
    const created = await h.call('POST', '/v1/tenants', 'system-key-for-tests-0123456789', {
      id: h.redis.tenant('half-new'),
      params: { webhooks: { campaignEngineUrl: receiver.url('/x') } },
    });
    assert.equal(created.statusCode, 400);
    assert.match(created.json().message, /webhookSecret/);
  });

  it('sends unsigned webhooks when the tenant chose so, and shows the choice in the params', async () => {
    receiver.on('/unsigned', { kind: 'always', status: 200 });
    const t = await tenantWithKey('unsigned');
    const res = await h.call('PATCH', '/v1/params', t.admin, {
      webhooks: { agentDesktopUrl: receiver.url('/unsigned') },
      unsignedWebhooks: true,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().unsignedWebhooks, true);
    assert.equal(res.json().webhookSecretSet, false);
    const id = stack.notifier.publish(popup(t.id, 1));
    const got = await eventually('unsigned pop-up delivered', () => receiver.at('/unsigned')[0]);
    assert.equal(got.headers['x-callguard-event-id'], id);
    assert.equal(got.headers['x-callguard-signature'], undefined);
  });

  it('stores the secret encrypted, never returns it, and signs with it', async () => {
    const t = await tenantWithKey('sealed');
    const api = await startApiWithBox();
    try {
      const res = await api.call('PATCH', '/v1/params', t.admin, {
        webhooks: { agentDesktopUrl: receiver.url('/sealed') },
        webhookSecret: SECRET,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(!res.body.includes(SECRET));
      assert.equal(res.json().webhookSecretSet, true);
      const raw = await storedParams(t.id);
      assert.ok(!raw.includes(SECRET), 'the secret is not in Redis in plain text');
      assert.match(raw, /"webhookSecret":"v1\./);
      stack.notifier.publish(popup(t.id, 2));
      const got = await eventually('signed pop-up delivered', () => receiver.at('/sealed')[0]);
      assert.equal(got.signatureValid, true);
    } finally {
      await api.app.close();
    }
  });

  it('still delivers with a secret stored in plain text by an earlier version', async () => {
    const t = await h.tenant('legacy');
    // what the previous version wrote: the secret as given
    await h.deps.tenants.setParams(t.id, {
      webhooks: { agentDesktopUrl: receiver.url('/legacy') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    assert.match(await storedParams(t.id), new RegExp(SECRET));
    assert.equal((await h.call('GET', '/v1/params', t.admin)).json().webhookSecretSet, true);
    stack.notifier.publish(popup(t.id, 3));
    const got = await eventually('legacy pop-up delivered', () => receiver.at('/legacy')[0]);
    assert.equal(got.signatureValid, true);
  });

  it('a secret this node cannot decrypt goes to the dead-letter list with the reason, not into silence', async () => {
    const t = await h.tenant('wrongkey');
    const other = new SecretBox(randomBytes(32));
    await h.deps.tenants.setParams(t.id, {
      webhooks: { agentDesktopUrl: receiver.url('/wrongkey') },
      webhookSecret: other.seal(SECRET),
      allowPrivateWebhookTargets: true,
    });
    stack.notifier.publish(popup(t.id, 4));
    const dead = await eventually(
      'dead letter',
      async () => (await stack.deadLetters.list(t.id, { limit: 10 })).items[0],
    );
    assert.match(dead.lastError, /CALLGUARD_SECRET_KEY/);
    assert.equal(receiver.at('/wrongkey').length, 0);
  });

  /** The same API over the same Redis, sealing with the box the notify stack opens with. */
  async function startApiWithBox() {
    const { buildApiApp } = await import('../../src/api/app.js');
    const app = await buildApiApp({ ...h.deps, secrets: box }, { docs: false });
    return {
      app,
      call: (method: 'PATCH', url: string, key: string, body: unknown) =>
        app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        }),
    };
  }
});
