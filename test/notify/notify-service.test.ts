import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallScreener } from '../../src/call/call-screener.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { loadConfig } from '../../src/config.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { NotifyService } from '../../src/notify/notify-service.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { SECRET } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

describe.skipIf(skipWithoutRedis)('NotifyService as `callguard serve` wires it', () => {
  let redis: TestRedis;
  let service: NotifyService;
  const receiver = new WebhookReceiver(SECRET);
  beforeAll(async () => {
    redis = await startRedis();
    await receiver.start();
  });
  afterAll(async () => {
    await service?.close();
    await receiver.stop();
    await redis?.stop();
  });

  it('takes a blocked pop-up call from the screener to the agent desktop, the audit and the hit counters', async () => {
    const client = redis.client();
    await client.ping();
    const config = loadConfig({
      REDIS_URL: redis.url,
      NODE_NAME: 'pbx-1',
      CALLGUARD_WEBHOOK_BACKOFF_MS: '20',
    });
    service = new NotifyService({ config, client, log: silentLogger, worker: true }).start();
    const tenant = redis.tenant('svc');
    await new TenantRepository(client).create(tenant, {
      params: {
        webhooks: { agentDesktopUrl: receiver.url('/desk') },
        webhookSecret: SECRET,
        allowPrivateWebhookTargets: true,
      },
    });
    const now = Math.floor(Date.now() / 1000) * 1000;
    const engine = DecisionEngine.fromRules(
      [
        {
          id: 9,
          called: '14045266123',
          direction: 'outbound',
          action: 'block',
          typeId: 'pop',
          updatedAt: now,
        },
      ],
      {
        types: [
          { id: 'pop', name: 'Pop', operation: 'pop_up', promptContent: 'DNC', jumpAddress: 'https://crm/1' },
        ],
      },
    );
    const screener = new CallScreener(
      new StaticDeciderSource().set(tenant, engine, { mode: 'digits' }),
      service.notifier,
      Date.now,
      service.recorder,
    );
    const r = screener.screen({
      callId: 'c1',
      tenant,
      direction: 'outbound',
      called: '14045266123',
      agent: 'a7',
      task: 't1',
    });
    assert.equal(r.plan.result, 'block');

    const got = await eventually('pop-up delivered', () => receiver.at('/desk')[0]);
    assert.equal(got.signatureValid, true);
    const body = JSON.parse(got.body);
    assert.equal(body.data.agent, 'a7');
    assert.equal(body.data.promptContent, 'DNC');

    await service.recorder.flush();
    const [d] = (await service.decisionLog.query(tenant)).items;
    assert.equal(d?.node, 'pbx-1');
    assert.equal(d?.ruleId, 9);
    assert.equal((await service.hits.readHits(tenant, [9]))[0]?.count, 1);
  });
});
