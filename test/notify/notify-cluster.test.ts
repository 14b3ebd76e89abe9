import assert from 'node:assert/strict';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallScreener } from '../../src/call/call-screener.js';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { silentLogger } from '../../src/log.js';
import { DecisionRecorder } from '../../src/notify/decision-recorder.js';
import { recentEvents, tailEvents } from '../../src/notify/event-stream.js';
import { Notifier } from '../../src/notify/notifier.js';
import { webhookDeadLetters } from '../../src/notify/webhook-job.js';
import { WebhookQueue } from '../../src/notify/webhook-queue.js';
import { webhookSettingsOf } from '../../src/notify/webhook-settings.js';
import { WebhookWorker } from '../../src/notify/webhook-worker.js';
import { DecisionLog } from '../../src/store/decision-log.js';
import { HitCounters } from '../../src/store/hit-counters.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { WebhookLanes } from '../../src/store/webhook-lanes.js';
import { skipWithoutLocalRedis, startRedisCluster, type TestCluster } from '../support/redis-server.js';
import { SECRET, TEST_DELIVERY } from './notify-stack.js';
import { eventually, WebhookReceiver } from './webhook-receiver.js';

describe.skipIf(skipWithoutLocalRedis)('notify on a 3-master Redis Cluster', () => {
  let cluster: TestCluster;
  let client: Cluster;
  let workerConnection: Cluster;
  const receiver = new WebhookReceiver(SECRET);
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = cluster.client();
    workerConnection = client.duplicate(undefined, { redisOptions: { maxRetriesPerRequest: null } });
    workerConnection.on('error', () => undefined);
    await receiver.start();
  });
  afterAll(async () => {
    workerConnection?.disconnect();
    await receiver.stop();
    await cluster?.stop();
  });

  it('delivers webhooks from the {cg-notify} queue and writes streams, audit and counters of tenants in different slots', async () => {
    const tenants = new TenantRepository(client);
    const ids = Array.from({ length: 4 }, () => cluster.tenant('ncl'));
    for (const t of ids) {
      await tenants.create(t, {
        params: {
          webhooks: { campaignEngineUrl: receiver.url(`/${t}`) },
          webhookSecret: SECRET,
          allowPrivateWebhookTargets: true,
        },
      });
    }
    const settingsFor = async (t: string) => webhookSettingsOf(await tenants.params(t));
    const queue = new WebhookQueue(client, TEST_DELIVERY);
    const notifier = new Notifier({ client, queue, settingsFor, log: silentLogger });
    const deadLetters = webhookDeadLetters(client);
    const worker = new WebhookWorker({
      connection: workerConnection,
      lanes: new WebhookLanes(client),
      settingsFor,
      deadLetters,
      options: TEST_DELIVERY,
      log: silentLogger,
    });
    const recorder = new DecisionRecorder(client, silentLogger, { node: 'n1', flushMs: 60_000 });
    try {
      const now = Math.floor(Date.now() / 1000) * 1000;
      const engine = DecisionEngine.fromRules(
        [{ id: 3, called: '_1404!', direction: 'outbound', action: 'block', typeId: 'wrap', updatedAt: now }],
        { types: [{ id: 'wrap', name: 'Wrap', operation: 'auto_wrap_up', businessResult: 'DNC' }] },
      );
      const source = new StaticDeciderSource();
      for (const t of ids) source.set(t, engine, { mode: 'digits' });
      const screener = new CallScreener(source, notifier, Date.now, recorder);

      const controller = new AbortController();
      const tailed: string[] = [];
      let ready = false;
      const tailConnection = workerConnection.duplicate();
      const tail = tailEvents(tailConnection, {
        tenants: ids,
        signal: controller.signal,
        blockMs: 200,
        onReady: () => {
          ready = true;
        },
        onEvent: (e) => tailed.push(e.event.tenant),
      });
      await eventually('tail ready', () => ready);

      for (const t of ids)
        screener.screen({ callId: `c-${t}`, tenant: t, direction: 'outbound', called: '14045550000' });
      await eventually('one webhook per tenant', () =>
        ids.every((t) => receiver.at(`/${t}`).some((r) => r.status === 200)),
      );
      assert.ok(receiver.received.every((r) => r.signatureValid));
      await eventually('tail saw every tenant', () => ids.every((t) => tailed.includes(t)));
      controller.abort();
      await tail;
      tailConnection.disconnect();

      await recorder.flush();
      for (const t of ids) {
        assert.equal((await recentEvents(client, t, 10)).length, 1);
        const [d] = (await new DecisionLog(client).query(t)).items;
        assert.equal(d?.ruleId, 3);
        assert.equal((await new HitCounters(client).readHits(t, [3]))[0]?.count, 1);
        assert.equal((await deadLetters.list(t)).items.length, 0);
      }
    } finally {
      await worker.close();
      await notifier.close(1000);
      await recorder.close();
      await queue.close();
    }
  });
});
