import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { CallScreener } from '../../../src/call/call-screener.js';
import {
  type CallClaims,
  RedisCallClaims,
  SINGLE_NODE_CLAIMS,
} from '../../../src/pbx/freeswitch/call-claims.js';
import { EslInboundClient } from '../../../src/pbx/freeswitch/esl-inbound-client.js';
import { eventually, memoryLogger } from '../../support/memory-logger.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../../support/redis-server.js';
import { ALLOWED_CALL, BLOCKED_CALL, contractSource } from '../contract/contract-tenants.js';
import type { DoubleCallResult } from './esl-double-common.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';

function node(port: number, events: MemoryEventSink, claims: CallClaims = SINGLE_NODE_CLAIMS) {
  const logs = memoryLogger();
  const app = new EslInboundClient({
    host: '127.0.0.1',
    port,
    password: 'ClueCon',
    screener: new CallScreener(contractSource(), events),
    logger: logs.logger,
    transferContext: 'callguard_result',
    backoffMs: { first: 300, max: 300 },
    claims,
  });
  return { app, logs };
}

/** What the app did to the channel: its end and the api commands that acted on it. */
const acted = (r: DoubleCallResult) => r.commands.filter((c) => c === 'uuid_kill' || c === 'uuid_transfer');

describe('ESL inbound mode: calls parked while no node listened', () => {
  it('calls-parked-before-the-app-connects-are-found-and-screened', async () => {
    const double = new FreeswitchInboundDouble({ waitMs: 5000 });
    const port = await double.listen();
    const events = new MemoryEventSink();
    // FreeSWITCH parks two calls; nobody is subscribed, so their CHANNEL_PARK reaches nobody
    const calls = [double.placeCall(BLOCKED_CALL), double.placeCall(ALLOWED_CALL)];
    const { app, logs } = node(port, events);
    await app.start();
    const [blocked, allowed] = await Promise.all(calls);
    assert.equal(blocked.end, 'hangup');
    assert.equal(blocked.variables.CALLGUARD_RESULT, 'block');
    assert.equal(allowed.end, 'continue');
    assert.equal(allowed.variables.CALLGUARD_RESULT, 'allow');
    assert.equal(events.events.length, 1, 'the wrap-up is reported once');
    assert.ok(logs.records.some((r) => r.msg === 'ESL inbound: adopting a call parked while not connected'));
    await app.drain();
    await double.close();
  });

  it('a-call-parked-during-a-reconnect-is-adopted-after-it', async () => {
    const double = new FreeswitchInboundDouble({ waitMs: 5000 });
    const port = await double.listen();
    const events = new MemoryEventSink();
    const { app } = node(port, events);
    await app.start();
    await app.ready();
    double.dropConnections();
    // the app waits 300 ms before reconnecting: this call parks with nobody listening
    const r = await double.placeCall(BLOCKED_CALL);
    assert.equal(r.leftInApp, false);
    assert.equal(r.end, 'hangup');
    assert.equal(r.cause, 'CALL_REJECTED');
    assert.deepEqual(acted(r), ['uuid_kill']);
    await app.drain();
    await double.close();
  });

  it('the-park-fallback-is-cancelled-when-callguard-acts-and-fires-when-nobody-does', async () => {
    const double = new FreeswitchInboundDouble({ waitMs: 3000 });
    const port = await double.listen();
    const { app } = node(port, new MemoryEventSink());
    await app.start();
    await double.waitForSubscriber();
    const screened = await double.placeCall({ ...ALLOWED_CALL, fallbackAfterMs: 150 });
    assert.equal(screened.commands[0], 'sched_del', 'the fallback is cancelled before anything else');
    assert.equal(screened.transfer, `${ALLOWED_CALL.called} XML callguard_result`);
    await app.drain();
    // nobody listening: the dialplan's fallback takes the call (no result: its failure policy)
    const unscreened = await double.placeCall({ ...ALLOWED_CALL, fallbackAfterMs: 150 });
    assert.equal(unscreened.end, 'continue');
    assert.equal(unscreened.transfer, 'callguard_unscreened XML callguard_result');
    assert.equal(unscreened.variables.CALLGUARD_RESULT, undefined);
    await double.close();
    // the shipped park dialplan schedules that fallback before every park, to the failure-policy context
    const xml = readFileSync(
      new URL('../../../dialplan/freeswitch/callguard-inbound-park.xml', import.meta.url),
      'utf8',
    );
    const parks = [...xml.matchAll(/application="park"/g)];
    assert.equal(parks.length, 2);
    for (const p of parks) {
      const ext = xml.slice(xml.lastIndexOf('<extension', p.index), p.index);
      assert.match(ext, /application="sched_transfer" data="\+\d+ \$1 XML callguard_result"/);
    }
  });
});

describe.skipIf(skipWithoutRedis)('ESL inbound mode: several nodes', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function twoNodes(claims: (name: string) => CallClaims, calls: number) {
    const double = new FreeswitchInboundDouble({ waitMs: 5000 });
    const port = await double.listen();
    const events = new MemoryEventSink();
    const nodes = [node(port, events, claims('a')), node(port, events, claims('b'))];
    for (const n of nodes) await n.app.start();
    assert.ok(await eventually(() => double.parkSubscribers === 2));
    const results = await Promise.all(Array.from({ length: calls }, () => double.placeCall(BLOCKED_CALL)));
    for (const n of nodes) await n.app.drain();
    await double.close();
    return { results, events: events.events };
  }

  it('each-parked-call-is-screened-by-one-node', async () => {
    const client = redis.client();
    const { results, events } = await twoNodes(
      (name) => new RedisCallClaims(client, name, memoryLogger().logger),
      12,
    );
    for (const r of results) {
      assert.equal(r.end, 'hangup');
      assert.deepEqual(acted(r), ['uuid_kill'], 'one node acted on the call');
      assert.equal(r.commands.filter((c) => c === 'uuid_setvar').length, 4, 'the variables were set once');
    }
    assert.equal(events.length, 12, 'one wrap-up webhook per call, not one per node');
  });

  it('without-claims-both-nodes-act-on-every-call', async () => {
    // the control: what the claim prevents
    const { events } = await twoNodes(() => SINGLE_NODE_CLAIMS, 4);
    assert.equal(events.length, 8);
  });
});
