import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { CallScreener } from '../../../src/call/call-screener.js';
import {
  EslOutboundServer,
  type OutboundServerOptions,
} from '../../../src/pbx/freeswitch/esl-outbound-server.js';
import { eventually, memoryLogger } from '../../support/memory-logger.js';
import {
  ACME,
  ALLOWED_CALL as ALLOWED,
  BLOCKED_CALL as BLOCKED,
  contractSource,
  inboundCall,
} from '../contract/contract-tenants.js';
import { FreeswitchOutboundDouble, type OutboundDoubleOptions } from './esl-outbound-double.js';

async function startApp(
  doubleOpts: Omit<OutboundDoubleOptions, 'port'> = {},
  timeouts: Pick<OutboundServerOptions, 'settleTimeoutMs' | 'connectTimeoutMs'> = {},
) {
  const logs = memoryLogger();
  const events = new MemoryEventSink();
  const app = new EslOutboundServer({
    host: '127.0.0.1',
    port: 0,
    screener: new CallScreener(contractSource(), events),
    logger: logs.logger,
    defaultTenant: 'default',
    drainTimeoutMs: 2000,
    ...timeouts,
  });
  const port = await app.listen();
  const double = new FreeswitchOutboundDouble({ port, ...doubleOpts });
  return { app, double, logs, events, port };
}

/** A peer on the outbound listener that is not FreeSWITCH: it says what it is told to, or nothing. */
async function rawPeer(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {
    // the app cutting it (a reset mid-write) is what these tests wait for
  });
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString();
  });
  let closed = false;
  const gone = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await once(socket, 'connect');
  return {
    socket,
    gone,
    closed: () => closed,
    asked: () => eventually(() => received === 'connect\n\n'),
  };
}

const CUT = 'ESL outbound: connection closed, the peer is not a working FreeSWITCH';

describe('ESL outbound socket mode', () => {
  it('outbound-blocked-sets-variables-then-hangs-up-in-one-write', async () => {
    const { app, double } = await startApp();
    const r = await double.placeCall(BLOCKED);
    assert.equal(r.end, 'hangup');
    assert.equal(r.cause, 'CALL_REJECTED');
    // one write after connect: the four sets, the hangup, exit; no events asked for
    assert.deepEqual(r.commands, ['connect', 'sendmsg', 'sendmsg', 'sendmsg', 'sendmsg', 'sendmsg', 'exit']);
    assert.equal(r.ticks, 1, 'the whole outcome in the first 20 ms tick');
    assert.equal(r.variables.CALLGUARD_RESULT, 'block');
    assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, 'DNC');
    assert.equal(r.variables.CALLGUARD_TENANT, ACME);
    await app.drain();
  });

  it('allowed-call-exits-after-the-variables-are-in-place-and-the-dialplan-continues', async () => {
    const { app, double } = await startApp();
    const r = await double.placeCall(ALLOWED);
    assert.equal(r.end, 'continue');
    assert.equal(r.leftInApp, false);
    assert.equal(r.variables.CALLGUARD_RESULT, 'allow');
    assert.equal(r.variables.CALLGUARD_RULE, '5');
    // as recorded in b-allowed-pipelined: sets, resume, exit in one write; the dialplan goes on in one tick
    assert.deepEqual(r.commands, ['connect', 'sendmsg', 'sendmsg', 'resume', 'exit']);
    assert.equal(r.ticks, 1);
    await app.drain();
  });

  it('socket-closed-by-freeswitch-mid-decision-is-not-an-error', async () => {
    let drop = true;
    const { app, double, logs } = await startApp({
      afterChannelData: (_uuid, freeswitch) => {
        if (drop) freeswitch.drop();
      },
    });
    const gone = await double.placeCall(BLOCKED);
    assert.equal(gone.leftInApp, false);
    assert.ok(await eventually(() => app.liveCalls === 0), 'the session is released');
    drop = false;
    const next = await double.placeCall(ALLOWED);
    assert.equal(next.end, 'continue');
    assert.equal(next.variables.CALLGUARD_RESULT, 'allow');
    assert.deepEqual(logs.errors(), []);
    await app.drain();
  });

  it('app-dies-right-after-connect-leaves-the-call-parked-for-the-dialplan-park-timeout', async () => {
    let kill: () => void = () => {};
    const { app, double, logs } = await startApp({ afterChannelData: () => kill() });
    kill = () => app.abort();
    const r = await double.placeCall(BLOCKED);
    // FreeSWITCH keeps such a call parked inside `socket`: only the dialplan's park_timeout ends it
    assert.equal(r.parked, true);
    assert.equal(r.leftInApp, true);
    assert.equal(r.variables.CALLGUARD_RESULT, undefined);
    // the app side is clean: nothing held, nothing logged as an error
    assert.ok(await eventually(() => app.liveCalls === 0));
    assert.deepEqual(logs.errors(), []);
    for (const file of ['callguard-outbound-socket.xml', 'callguard-inbound-park.xml']) {
      const xml = readFileSync(new URL(`../../../dialplan/freeswitch/${file}`, import.meta.url), 'utf8');
      const parks = [...xml.matchAll(/application="(socket|park)"/g)];
      assert.ok(parks.length >= 2, file);
      for (const p of parks) {
        const beforeIt = xml.slice(xml.lastIndexOf('<extension', p.index), p.index);
        assert.match(beforeIt, /park_timeout=\d+/, `${file}: park_timeout is set before every ${p[1]}`);
      }
    }
  });

  it('app-down-refused-connection-hands-the-call-back-without-a-result', async () => {
    const { app, double } = await startApp();
    await app.drain();
    const r = await double.placeCall(BLOCKED);
    // FreeSWITCH: "Socket Error: Connection refused", the dialplan continues; callguard_result then
    // applies the failure policy because CALLGUARD_RESULT is missing
    assert.equal(r.end, 'continue');
    assert.equal(r.variables.CALLGUARD_RESULT, undefined);
  });

  it('unreadable-channel-is-turned-away-with-no-result-for-the-dialplan-policy', async () => {
    const { app, double, logs } = await startApp();
    const r = await double.placeCall({ ...ALLOWED, direction: 'sideways' as 'inbound' });
    assert.equal(r.end, 'continue');
    assert.equal(r.variables.CALLGUARD_RESULT, undefined);
    assert.deepEqual(r.commands, ['connect', 'resume', 'exit']);
    const warned = logs.records.find(
      (l) => l.msg === 'call turned away unscreened: the dialplan failure policy takes it',
    );
    assert.equal(warned?.callId, r.uuid, 'logged with the call id');
    assert.match(String(warned?.reason), /CALLGUARD_DIRECTION is "sideways"/);
    await app.drain();
  });

  it('empty-caller-id-0000000000-is-anonymous', async () => {
    const { app, double } = await startApp();
    const r = await double.placeCall(inboundCall('0000000000'));
    assert.equal(r.end, 'hangup');
    assert.equal(r.variables.CALLGUARD_RULE, '6');
    await app.drain();
  });

  it('freeswitch-that-never-closes-after-exit-is-cut-after-the-grace-period', async () => {
    const { app, double, logs } = await startApp(
      { ignoreExit: true, waitMs: 2000 },
      { settleTimeoutMs: 100 },
    );
    // an allowed call: after a hangup FreeSWITCH closes by itself, so only `exit` keeps it open
    const r = await double.placeCall(ALLOWED);
    assert.equal(r.leftInApp, false);
    assert.equal(r.commands.at(-1), 'exit');
    assert.ok(await eventually(() => app.liveCalls === 0));
    assert.ok(
      logs.records.some(
        (l) => l.msg === 'FreeSWITCH did not close the socket after exit in time; cutting it',
      ),
    );
    await app.drain();
  });

  it('a-peer-that-never-ends-its-headers-is-cut-off-while-calls-are-still-decided', async () => {
    const { app, double, logs, port } = await startApp();
    const peer = await rawPeer(port);
    assert.ok(await peer.asked());
    const call = double.placeCall(BLOCKED);
    // header lines with no blank line, up to 8 MiB (before the limit the app kept all of it)
    const line = Buffer.from(`X-Flood: ${'a'.repeat(16 * 1024)}\n`);
    for (let written = 0; written < 8 * 1024 * 1024 && !peer.closed(); written += line.length) {
      if (!peer.socket.write(line))
        await Promise.race([once(peer.socket, 'drain').catch(() => {}), peer.gone]);
    }
    assert.ok(await eventually(() => peer.closed()), 'the flooding peer is cut off');
    const r = await call;
    assert.equal(r.end, 'hangup');
    assert.equal(r.variables.CALLGUARD_RESULT, 'block');
    const cut = logs.records.find((l) => l.msg === CUT);
    assert.equal(cut?.peer, '127.0.0.1');
    assert.match(String(cut?.reason), /header block longer than the 65536 bytes accepted/);
    assert.ok(await eventually(() => app.liveCalls === 0), 'no session is left behind');
    assert.deepEqual(logs.errors(), []);
    await app.drain();
  });

  it('a-peer-that-declares-a-body-of-gigabytes-is-cut-off-at-that-header', async () => {
    const { app, logs, port } = await startApp();
    const peer = await rawPeer(port);
    assert.ok(await peer.asked());
    peer.socket.write('Content-Length: 4000000000\nContent-Type: command/reply\n\nsome of it');
    assert.ok(await eventually(() => peer.closed()), 'cut off without waiting for the body');
    const cut = logs.records.find((l) => l.msg === CUT);
    assert.match(String(cut?.reason), /Content-Length 4000000000, more than the 4194304 bytes accepted/);
    assert.ok(await eventually(() => app.liveCalls === 0));
    await app.drain();
  });

  it('silent-and-half-open-peers-are-closed-after-the-connect-timeout-calls-are-not', async () => {
    const { app, double, logs, port } = await startApp({}, { connectTimeoutMs: 500 });
    const silent = await rawPeer(port);
    const halfway = await rawPeer(port);
    assert.ok(await halfway.asked());
    halfway.socket.write('Event-Name: CHANNEL_DATA\nCore-UUID: ');
    // a call that takes longer than the connect timeout once its channel data is in is not cut
    const slow = await startApp({ exitDelayMs: 800 }, { connectTimeoutMs: 500 });
    const slowCall = slow.double.placeCall(ALLOWED);
    assert.ok(await eventually(() => silent.closed() && halfway.closed(), 5000));
    assert.equal(app.liveCalls, 0);
    const cuts = logs.records.filter((l) => l.msg === CUT);
    assert.equal(cuts.length, 2, 'one line per peer');
    for (const cut of cuts) {
      assert.equal(cut.peer, '127.0.0.1');
      assert.equal(cut.reason, 'no channel data within 500 ms of connecting');
    }
    const r = await double.placeCall(BLOCKED);
    assert.equal(r.variables.CALLGUARD_RESULT, 'block');
    assert.equal((await slowCall).variables.CALLGUARD_RESULT, 'allow');
    assert.equal(slow.logs.records.filter((l) => l.msg === CUT).length, 0);
    await Promise.all([app.drain(), slow.app.drain()]);
  });

  describe('drain (SIGTERM)', () => {
    let ctx: Awaited<ReturnType<typeof startApp>>;
    beforeAll(async () => {
      ctx = await startApp({ exitDelayMs: 150 });
    });
    afterAll(async () => {
      await ctx.app.drain();
    });

    it('drain-finishes-live-calls-then-refuses-new-ones', async () => {
      const live = [ctx.double.placeCall(BLOCKED), ctx.double.placeCall(ALLOWED)];
      assert.ok(await eventually(() => ctx.app.liveCalls === 2));
      const drained = ctx.app.drain();
      const [blocked, allowed] = await Promise.all(live);
      await drained;
      assert.equal(blocked.end, 'hangup');
      assert.equal(blocked.variables.CALLGUARD_RESULT, 'block');
      assert.equal(allowed.end, 'continue');
      assert.equal(allowed.variables.CALLGUARD_RESULT, 'allow');
      assert.equal(ctx.app.liveCalls, 0);
      const late = await ctx.double.placeCall(BLOCKED);
      assert.equal(late.variables.CALLGUARD_RESULT, undefined, 'a call after the drain is not taken');
    });
  });
});
