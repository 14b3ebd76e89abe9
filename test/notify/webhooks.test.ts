import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { CallEvent } from '../../src/call/call-events.js';
import { recentEvents } from '../../src/notify/event-stream.js';
import { jobFinishedHook, publishJobFinished } from '../../src/notify/job-events.js';
import type { NotifyEvent } from '../../src/notify/notify-event.js';
import { skipWithoutRedis } from '../support/redis-server.js';
import { SECRET } from './notify-stack.js';
import { eventually } from './webhook-receiver.js';
import { webhookSuite } from './webhook-suite.js';

const popup = (tenant: string, callId: string): CallEvent => ({
  type: 'agent.popup',
  tenant,
  callId,
  direction: 'outbound',
  task: 'task-7',
  agent: 'agent-3',
  number: '14045266123',
  called: '14045266123',
  calling: '3712000000',
  promptContent: 'This number asked not to be called',
  jumpAddress: 'https://crm.example.com/dnc/14045266123',
  businessResult: 'DNC',
  ruleId: 42,
  typeId: 'dnc-popup',
  at: '2026-11-22T06:00:00.000Z',
});

const wrapUp = (tenant: string, callId: string): CallEvent => ({
  type: 'call.wrapped_up',
  tenant,
  callId,
  direction: 'outbound',
  task: 'task-7',
  number: '14045266124',
  called: '14045266124',
  calling: '3712000000',
  businessResult: 'BLOCKED',
  ruleId: 43,
  typeId: 'wrap',
  at: '2026-11-22T06:00:00.000Z',
});

describe.skipIf(skipWithoutRedis)('webhooks', () => {
  const suite = webhookSuite();
  const { receiver } = suite;

  const tenantWith = async (label: string, extra: Record<string, unknown> = {}) => {
    const id = suite.redis.tenant(label);
    await suite.stack.tenant(id, {
      webhooks: {
        agentDesktopUrl: receiver.url(`/${id}/desk`),
        campaignEngineUrl: receiver.url(`/${id}/campaign`),
      },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
      ...extra,
    });
    return id;
  };

  it('posts a signed agent.popup to the agent desktop with every field the desktop shows', async () => {
    const t = await tenantWith('popup');
    const sent = popup(t, 'call-1');
    suite.stack.notifier.emit(sent);
    const [got] = await eventually(
      'pop-up delivered',
      () => receiver.at(`/${t}/desk`)[0] && receiver.at(`/${t}/desk`),
    );
    assert.equal(got!.signatureValid, true);
    assert.equal(got!.headers['content-type'], 'application/json');
    assert.equal(got!.headers['x-callguard-event-type'], 'agent.popup');
    const body = JSON.parse(got!.body) as NotifyEvent;
    assert.equal(got!.headers['x-callguard-event-id'], body.id);
    assert.equal(body.type, 'agent.popup');
    assert.equal(body.tenant, t);
    // Every field of the event but the envelope's type and tenant, unchanged.
    const { type: _type, tenant: _tenant, ...shown } = sent;
    assert.deepEqual({ ...body.data }, shown);
    // ...and the same envelope is on the tenant's event stream.
    const streamed = await recentEvents(suite.stack.client, t, 10);
    assert.deepEqual(
      streamed.map((s) => s.event.id),
      [body.id],
    );
    assert.equal(receiver.at(`/${t}/campaign`).length, 0);
  });

  it('posts call.wrapped_up and import/export.finished to the campaign engine', async () => {
    const t = await tenantWith('wrap');
    suite.stack.notifier.emit(wrapUp(t, 'call-2'));
    // as the bulk-jobs worker reports them through its onFinished option
    const importId = publishJobFinished(suite.stack.notifier, {
      kind: 'import',
      tenant: t,
      jobId: 'job-1',
      ok: true,
      result: {
        read: 10,
        imported: 9,
        skipped: 0,
        failed: 1,
        deleted: 0,
        errorsFile: true,
        reloadVersion: '1-0',
      },
    });
    jobFinishedHook(suite.stack.notifier)({
      kind: 'export',
      tenant: t,
      jobId: 'job-2',
      ok: false,
      error: 'SFTP refused',
    });
    const got = await eventually('three campaign events', () => {
      const r = receiver.at(`/${t}/campaign`);
      return r.length >= 3 ? r : undefined;
    });
    const types = got.map((r) => JSON.parse(r.body).type).sort();
    assert.deepEqual(types, ['call.wrapped_up', 'export.finished', 'import.finished']);
    assert.ok(got.every((r) => r.signatureValid));
    const imported = got.find((r) => r.headers['x-callguard-event-type'] === 'import.finished')!;
    assert.equal(imported.headers['x-callguard-event-id'], importId);
    assert.deepEqual(JSON.parse(imported.body).data, {
      jobId: 'job-1',
      state: 'completed',
      counts: { read: 10, imported: 9, skipped: 0, failed: 1, deleted: 0 },
      errorsFile: true,
    });
    const exported = got.find((r) => r.headers['x-callguard-event-type'] === 'export.finished')!;
    assert.deepEqual(JSON.parse(exported.body).data, {
      jobId: 'job-2',
      state: 'failed',
      error: 'SFTP refused',
    });
    const wrap = JSON.parse(got.find((r) => r.headers['x-callguard-event-type'] === 'call.wrapped_up')!.body);
    assert.equal(wrap.data.businessResult, 'BLOCKED');
    assert.equal(wrap.data.number, '14045266124');
  });

  it('retries a failing receiver with the same event id until it answers 2xx', async () => {
    const t = await tenantWith('retry');
    receiver.on(`/${t}/desk`, { kind: 'fail', times: 2 });
    suite.stack.notifier.emit(popup(t, 'call-3'));
    const got = await eventually('delivered on the third attempt', () => {
      const r = receiver.at(`/${t}/desk`);
      return r.some((x) => x.status === 200) ? r : undefined;
    });
    assert.deepEqual(
      got.map((r) => [r.status, r.headers['x-callguard-attempt']]),
      [
        [500, '1'],
        [500, '2'],
        [200, '3'],
      ],
    );
    assert.equal(new Set(got.map((r) => r.headers['x-callguard-event-id'])).size, 1);
    assert.equal(await suite.stack.deadLetters.count(t), 0);
  });

  it('moves a delivery that used up its attempts to the dead-letter list, and redelivers it on request', async () => {
    const t = await tenantWith('dead');
    receiver.on(`/${t}/desk`, { kind: 'always', status: 503 });
    const eventId = suite.stack.notifier.publish({
      type: 'agent.popup',
      tenant: t,
      data: { ...popup(t, 'call-4') } as never,
    });
    const page = await eventually('dead letter', async () => {
      const p = await suite.stack.deadLetters.list(t);
      return p.items.length > 0 ? p : undefined;
    });
    const dead = page.items[0]!;
    assert.equal(dead.eventId, eventId);
    assert.equal(dead.type, 'agent.popup');
    assert.equal(dead.target, 'agentDesktop');
    assert.equal(dead.attempts, 3);
    assert.equal(dead.lastStatus, 503);
    assert.equal(dead.lastError, 'receiver answered 503');
    assert.doesNotMatch(JSON.stringify(dead), /not to be stored/, 'the response body is not kept');
    assert.equal(receiver.at(`/${t}/desk`).length, 3);

    receiver.on(`/${t}/desk`, { kind: 'ok' });
    await suite.stack.queue.redeliver(dead);
    assert.equal(await suite.stack.deadLetters.remove(t, dead.id), true);
    const ok = await eventually('redelivered', () => receiver.at(`/${t}/desk`).find((r) => r.status === 200));
    assert.equal(ok.headers['x-callguard-event-id'], eventId);
  });

  it('gives up on a receiver slower than the time limit', async () => {
    const t = await tenantWith('slow');
    receiver.on(`/${t}/desk`, { kind: 'slow', ms: 1500 });
    suite.stack.notifier.emit(popup(t, 'call-5'));
    const dead = await eventually(
      'dead letter after time-outs',
      async () => (await suite.stack.deadLetters.list(t)).items[0],
    );
    assert.match(dead.lastError, /no answer within 300 ms/);
    assert.equal(dead.lastStatus, null);
  });

  it('refuses a loopback receiver unless the tenant allows private targets', async () => {
    const t = await tenantWith('private', { allowPrivateWebhookTargets: false });
    suite.stack.notifier.emit(popup(t, 'call-6'));
    const dead = await eventually('refused', async () => (await suite.stack.deadLetters.list(t)).items[0]);
    assert.equal(dead.attempts, 1, 'a refused target is not retried');
    assert.match(dead.lastError, /loopback|private/);
    assert.equal(receiver.at(`/${t}/desk`).length, 0);
    // The event itself still reached the stream: only the webhook was refused.
    assert.equal((await recentEvents(suite.stack.client, t, 10)).length, 1);
  });

  it('sends and streams nothing of an event type the tenant switched off', async () => {
    const t = await tenantWith('off', { disabledEvents: ['agent.popup'] });
    suite.stack.notifier.emit(popup(t, 'call-7'));
    suite.stack.notifier.emit(wrapUp(t, 'call-8'));
    await eventually('wrap-up delivered', () => receiver.at(`/${t}/campaign`)[0]);
    assert.equal(await suite.stack.notifier.flush(), true);
    assert.equal(receiver.at(`/${t}/desk`).length, 0);
    const streamed = await recentEvents(suite.stack.client, t, 10);
    assert.deepEqual(
      streamed.map((s) => s.event.type),
      ['call.wrapped_up'],
    );
  });

  it('streams events but sends no webhook when the tenant has no secret', async () => {
    const t = suite.redis.tenant('nosecret');
    await suite.stack.tenant(t, {
      webhooks: { agentDesktopUrl: receiver.url(`/${t}/desk`) },
      allowPrivateWebhookTargets: true,
    });
    suite.stack.notifier.emit(popup(t, 'call-9'));
    await suite.stack.notifier.flush();
    assert.equal((await recentEvents(suite.stack.client, t, 10)).length, 1);
    assert.equal(await suite.stack.queue.pending(), 0);
    assert.equal(receiver.at(`/${t}/desk`).length, 0);
  });
});
