import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { CallScreener } from '../../../src/call/call-screener.js';
import { EslInboundClient } from '../../../src/pbx/freeswitch/esl-inbound-client.js';
import { eventually, memoryLogger } from '../../support/memory-logger.js';
import {
  ALLOWED_CALL as ALLOWED,
  BLOCKED_CALL as BLOCKED,
  contractSource,
} from '../contract/contract-tenants.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';

async function startBoth(opts: { password?: string; appPassword?: string } = {}) {
  const double = new FreeswitchInboundDouble({ password: opts.password ?? 'ClueCon' });
  const port = await double.listen();
  const logs = memoryLogger();
  const app = new EslInboundClient({
    host: '127.0.0.1',
    port,
    password: opts.appPassword ?? opts.password ?? 'ClueCon',
    screener: new CallScreener(contractSource(), new MemoryEventSink()),
    logger: logs.logger,
    defaultTenant: 'default',
    transferContext: 'callguard_result',
    backoffMs: { first: 10, max: 50 },
  });
  const stop = async () => {
    await app.drain();
    await double.close();
  };
  return { double, app, logs, stop };
}

describe('ESL inbound mode', () => {
  it('blocked-park-gets-setvar-then-kill-allowed-park-gets-transfer', async () => {
    const { double, app, stop } = await startBoth();
    await app.start();
    assert.equal(double.subscriptions[0], 'json CHANNEL_PARK CHANNEL_HANGUP_COMPLETE');
    const blocked = await double.placeCall(BLOCKED);
    assert.equal(blocked.end, 'hangup');
    assert.equal(blocked.cause, 'CALL_REJECTED');
    assert.deepEqual(blocked.commands.slice(-1), ['uuid_kill']);
    assert.equal(blocked.variables.CALLGUARD_OPERATION, 'auto_wrap_up');
    const allowed = await double.placeCall(ALLOWED);
    assert.equal(allowed.end, 'continue');
    assert.equal(allowed.transfer, '14045266123 XML callguard_result');
    await stop();
  });

  it('second-park-of-the-loopback-a-leg-is-left-alone', async () => {
    const { double, app, stop } = await startBoth();
    await app.start();
    const allowed = await double.placeCall(ALLOWED);
    assert.equal(allowed.end, 'continue');
    // the double parks the a-leg (Call-Direction outbound) right after the transfer
    await new Promise((r) => setTimeout(r, 50));
    // (the channel listing after connecting touches no channel)
    const touched = double.commandLog.filter(
      (c) => c.startsWith('api ') && !c.includes(allowed.uuid) && c !== 'api show channels as json',
    );
    assert.deepEqual(touched, []);
    await stop();
  });

  it('inbound-connection-dropped-and-restored-resubscribes-and-keeps-screening', async () => {
    const { double, app, logs, stop } = await startBoth();
    await app.start();
    for (let round = 0; round < 3; round++) {
      double.dropConnections();
      assert.ok(await double.waitForSubscriber(3000), `round ${round}: back and subscribed`);
      const r = await double.placeCall(BLOCKED);
      assert.equal(r.end, 'hangup', `round ${round}`);
    }
    assert.equal(double.subscriptions.length, 4);
    assert.equal(double.authAttempts.filter((a) => a.ok).length, 4);
    assert.ok(logs.records.some((l) => l.msg === 'ESL inbound: connection to FreeSWITCH lost; reconnecting'));
    assert.deepEqual(
      logs.errors().map((l) => l.msg),
      [],
    );
    await stop();
  });

  it('wrong-password-is-a-clear-error-at-start-up-retried-without-crash', async () => {
    const { double, app, logs, stop } = await startBoth({
      password: 'ClueCon',
      appPassword: 'WrongPassword',
    });
    await app.start(); // resolves: start-up goes on, FreeSWITCH is retried
    assert.equal(app.state === 'ready', false);
    assert.ok(await eventually(() => double.authAttempts.length >= 3), 'retried');
    assert.ok(double.authAttempts.every((a) => !a.ok));
    const errors = logs.errors();
    assert.ok(errors.length >= 1);
    assert.equal(errors[0].code, 'CG_ERR_ESL_AUTH_FAILED');
    assert.match(errors[0].msg ?? '', /refused ESL_PASSWORD/);
    assert.doesNotMatch(JSON.stringify(logs.records), /WrongPassword/, 'the password is never logged');
    // the operator fixes the password on the FreeSWITCH side: the app gets in by itself
    double.password = 'WrongPassword';
    await app.ready();
    const r = await double.placeCall(ALLOWED);
    assert.equal(r.end, 'continue');
    await stop();
  });

  it('acl-rejection-is-a-clear-error-retried-until-allowed', async () => {
    const { double, app, logs, stop } = await startBoth();
    double.denyByAcl = true;
    await app.start();
    assert.ok(await eventually(() => logs.errors().length >= 2), 'reported on every attempt');
    assert.match(
      logs.errors()[0].msg ?? '',
      /refused the connection \(Access Denied, go away\.\); allow this host/,
    );
    double.denyByAcl = false;
    await app.ready();
    const r = await double.placeCall(BLOCKED);
    assert.equal(r.end, 'hangup');
    await stop();
  });

  it('freeswitch-down-at-start-up-is-retried-until-it-comes', async () => {
    const probe = new FreeswitchInboundDouble();
    const port = await probe.listen();
    await probe.close();
    const logs = memoryLogger();
    const app = new EslInboundClient({
      host: '127.0.0.1',
      port,
      password: 'ClueCon',
      screener: new CallScreener(contractSource(), new MemoryEventSink()),
      logger: logs.logger,
      defaultTenant: 'default',
      transferContext: 'callguard_result',
      backoffMs: { first: 10, max: 50 },
    });
    await app.start();
    assert.notEqual(app.state, 'ready');
    const double = new FreeswitchInboundDouble();
    await double.listen(port);
    await app.ready();
    const r = await double.placeCall(BLOCKED);
    assert.equal(r.end, 'hangup');
    await app.drain();
    await double.close();
  });

  it('a-message-past-the-size-limits-cuts-the-connection-which-comes-back', async () => {
    const { double, app, logs, stop } = await startBoth();
    await app.start();
    await app.ready();
    double.sendRaw('Content-Length: 4000000000\nContent-Type: text/event-json\n\n');
    assert.ok(
      await eventually(() => double.authAttempts.filter((a) => a.ok).length === 2),
      'cut, then connected again',
    );
    const lost = logs.records.find(
      (l) => l.msg === 'ESL inbound: connection to FreeSWITCH lost; reconnecting',
    );
    assert.match(String(lost?.reason), /Content-Length 4000000000, more than the 67108864 bytes accepted/);
    assert.ok(await double.waitForSubscriber(3000));
    const r = await double.placeCall(BLOCKED);
    assert.equal(r.end, 'hangup');
    assert.deepEqual(logs.errors(), []);
    await stop();
  });

  it('drain-says-exit-and-stops-screening', async () => {
    const { double, app, stop } = await startBoth();
    await app.start();
    await app.drain();
    assert.equal(double.commandLog.at(-1), 'exit');
    assert.ok(await eventually(() => double.parkSubscribers === 0), 'nobody listens for parks any more');
    await stop();
  });
});
