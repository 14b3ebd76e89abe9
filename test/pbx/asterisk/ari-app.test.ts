import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import type { DecisionObserver } from '../../../src/call/call-screener.js';
import { loadConfig } from '../../../src/config.js';
import type { Logger } from '../../../src/log.js';
import { AriApp } from '../../../src/pbx/asterisk/ari-app.js';
import { INPUT_VARIABLES, inputsFromArgs } from '../../../src/pbx/asterisk/ari-call-reader.js';
import { AriAuthError } from '../../../src/pbx/asterisk/ari-connection.js';
import { drainOnSignals, startAriService } from '../../../src/pbx/asterisk/ari-service.js';
import { memoryLogger } from '../../support/memory-logger.js';
import {
  ALLOWED_CALL,
  CAMPAIGN_TASK,
  contractSource,
  DNC_NUMBER,
  outboundCall,
} from '../contract/contract-tenants.js';
import { AriDouble, type AriDoubleOptions, type DoubleCall } from './ari-double.js';
import { type AriClientKind, makeConnection, specFor } from './ari-harness.js';

const CLIENTS: AriClientKind[] = ['undici', 'ari-client'];

/** An app on the contract tenants, talking to the double at `url` through the `kind` client. */
function contractApp(kind: AriClientKind, url: string, logger: Logger, observer?: DecisionObserver): AriApp {
  return new AriApp({
    connection: makeConnection(kind, url, logger),
    source: contractSource(),
    events: new MemoryEventSink(),
    logger,
    defaultTenant: 'default',
    observer,
  });
}

async function withApp(
  kind: AriClientKind,
  doubleOpts: AriDoubleOptions,
  body: (ctx: {
    double: AriDouble;
    app: AriApp;
    logs: ReturnType<typeof memoryLogger>;
    observed: Array<{ tenant: string; result: string; failure: boolean }>;
  }) => Promise<void>,
): Promise<void> {
  const double = new AriDouble(doubleOpts);
  const url = await double.start();
  const logs = memoryLogger();
  const observed: Array<{ tenant: string; result: string; failure: boolean }> = [];
  const app = contractApp(kind, url, logs.logger, {
    observe: (call, s) =>
      observed.push({ tenant: call.tenant, result: s.plan.result, failure: s.decision === null }),
  });
  await app.start();
  await double.waitForApp();
  try {
    await body({ double, app, logs, observed });
  } finally {
    await app.stop({ quietMs: 20, timeoutMs: 2_000 });
    await double.stop();
  }
}

const outboundBlocked = specFor(outboundCall(DNC_NUMBER, { task: CAMPAIGN_TASK, agent: 'agent-42' }));

describe('Stasis arguments', () => {
  it('reads direction then task, and name=value arguments by name', () => {
    assert.deepEqual(inputsFromArgs(['outbound', 'campaign-7']), {
      CALLGUARD_DIRECTION: 'outbound',
      CALLGUARD_TASK: 'campaign-7',
    });
    assert.deepEqual(inputsFromArgs(['outbound', '']), { CALLGUARD_DIRECTION: 'outbound' });
    assert.deepEqual(inputsFromArgs(['inbound', 'tenant=acme', 'agent=a1']), {
      CALLGUARD_DIRECTION: 'inbound',
      CALLGUARD_TENANT: 'acme',
      CALLGUARD_AGENT: 'a1',
    });
  });
});

describe('ARI service from the configuration', { timeout: 30_000 }, () => {
  for (const [client, pipeline] of [
    ['undici', 'true'],
    ['undici', 'false'],
    ['ari-client', 'true'],
  ] as const) {
    it(`ARI_CLIENT=${client} ARI_PIPELINE=${pipeline} screens calls`, async () => {
      const double = new AriDouble({ channelvars: [...INPUT_VARIABLES] });
      const url = await double.start();
      const config = loadConfig({
        ARI_URL: url,
        ARI_USERNAME: 'test',
        ARI_PASSWORD: 'test',
        ARI_CLIENT: client,
        ARI_PIPELINE: pipeline,
      });
      const { logger } = memoryLogger();
      const service = await startAriService({
        config,
        source: contractSource(),
        events: new MemoryEventSink(),
        logger,
      });
      try {
        await double.waitForApp();
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        assert.equal(call.end, 'hangup');
        assert.equal(call.setVariables.length, 4);
      } finally {
        await service.stop({ quietMs: 20, timeoutMs: 2_000 });
        await double.stop();
      }
    });
  }
});

for (const kind of CLIENTS) {
  describe(`ARI app over the real protocol (${kind})`, { timeout: 30_000 }, () => {
    it('reads CALLGUARD_* from channelvars without any GET when ari.conf exposes them', async () => {
      await withApp(kind, { channelvars: [...INPUT_VARIABLES] }, async ({ double }) => {
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        assert.equal(call.end, 'hangup');
        assert.equal(call.cause, 21);
        assert.deepEqual(
          call.requests.filter((r) => r.method === 'GET'),
          [],
        );
        // the end came last, after every variable
        assert.equal(call.requests.at(-1)?.method, 'DELETE');
        assert.deepEqual(call.setVariables.map(([n]) => n).sort(), [
          'CALLGUARD_BUSINESS_RESULT',
          'CALLGUARD_OPERATION',
          'CALLGUARD_RESULT',
          'CALLGUARD_RULE',
        ]);
      });
    });

    it('GETs only the CALLGUARD_* variables the Stasis arguments left open when channelvars are off', async () => {
      await withApp(kind, {}, async ({ double }) => {
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        const gets = call.requests.filter((r) => r.method === 'GET').map((r) => r.path);
        assert.deepEqual(gets.sort(), [
          `/ari/channels/${call.id}/variable?variable=CALLGUARD_AGENT`,
          `/ari/channels/${call.id}/variable?variable=CALLGUARD_TENANT`,
        ]);
        assert.equal(call.end, 'hangup');
      });
    });

    it('a call whose variables cannot be read gets the failure policy, not a wait in Stasis', async () => {
      await withApp(kind, {}, async ({ double, logs, observed }) => {
        double.failVariableReads = true;
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        assert.equal(call.end, 'hangup', 'outbound fails closed');
        assert.deepEqual(
          observed,
          [{ tenant: 'default', result: 'block', failure: true }],
          'counted like any decision',
        );
        assert.deepEqual(call.setVariables, [['CALLGUARD_RESULT', 'block']]);
        assert.ok(logs.errors().some((r) => /failure policy/.test(r.msg ?? '')));
      });
    });

    it('a frame that is not an event, or a StasisStart with no channel, is logged and ignored; screening goes on', async () => {
      await withApp(kind, {}, async ({ double, logs }) => {
        // ari-client looks into every frame itself and throws inside its socket handler on one that
        // is not an object, of an unknown type or with a channel without an id (docs/DECISIONS.md):
        // that client gets the one malformed frame it survives.
        const frames =
          kind === 'undici'
            ? [
                'null',
                '5',
                '"text"',
                '[]',
                '{"type":7}',
                '{"type":"StasisStart"}',
                '{"type":"StasisStart","channel":{}}',
              ]
            : ['{"type":"StasisStart"}'];
        for (const frame of frames) double.sendRawFrame(frame);
        // a call after them is screened as usual, and a second one too (the socket still reads)
        for (let i = 0; i < 2; i++) {
          const call = double.placeCall(outboundBlocked) as DoubleCall;
          await call.done;
          assert.equal(call.end, 'hangup');
        }
        assert.deepEqual(logs.errors(), []);
        const ignored = logs.records.filter((r) => /ARI event .*ignored/.test(r.msg ?? ''));
        assert.equal(ignored.length, frames.length, JSON.stringify(logs.records.map((r) => r.msg)));
      });
    });

    it('a continue or hangup that Asterisk answers with a 500 is sent once more, so the call does not stay in Stasis', async () => {
      await withApp(kind, {}, async ({ double }) => {
        double.failNextEnds = 1;
        const blocked = double.placeCall(outboundBlocked) as DoubleCall;
        await blocked.done;
        assert.equal(blocked.end, 'hangup');
        assert.equal(blocked.cause, 21);
        assert.equal(blocked.requests.filter((r) => r.method === 'DELETE').length, 2);
        assert.equal(double.inStasis(), 0);
      });
    });

    it('caller hangs up while the variables are in flight: 404s are logged at debug, not as errors', async () => {
      await withApp(
        kind,
        { channelvars: [...INPUT_VARIABLES], responseDelayMs: 40 },
        async ({ double, logs, app }) => {
          const call = double.placeCall({ ...outboundBlocked, hangupAfterMs: 10 }) as DoubleCall;
          await call.done;
          for (let i = 0; i < 100 && app.liveCalls > 0; i++) await new Promise((r) => setTimeout(r, 10));
          assert.equal(call.end, 'caller-hangup');
          assert.ok(
            call.requests.some((r) => r.status === 404),
            'the app did reach the gone channel',
          );
          assert.deepEqual(logs.errors(), []);
          assert.ok(logs.records.some((r) => r.level === 20 && /already gone/.test(r.msg ?? '')));
          assert.equal(app.liveCalls, 0);
        },
      );
    });

    it('reconnects with backoff while the PBX is unreachable, then keeps screening', async () => {
      await withApp(kind, {}, async ({ double, app }) => {
        double.refuseNextUpgrades = 3;
        double.dropConnection();
        await double.waitForApp(20_000);
        for (let i = 0; i < 100 && !app.isConnected; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(
          double.upgrades.map((u) => u.status),
          [101, 0, 0, 0, 101],
        );
        assert.equal(app.isConnected, true);
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        assert.equal(call.end, 'hangup');
      });
    });

    it('a restarted app adopts the calls its predecessor left in Stasis', async () => {
      const double = new AriDouble({ channelvars: [...INPUT_VARIABLES] });
      const url = await double.start();
      const dying = await double.connectRawApp();
      const orphan = double.placeCall(outboundBlocked) as DoubleCall;
      dying.terminate();
      const { logger, errors } = memoryLogger();
      const app = contractApp(kind, url, logger);
      try {
        await app.start();
        await orphan.done;
        assert.equal(orphan.end, 'hangup');
        assert.equal(orphan.cause, 21);
        assert.equal(double.inStasis(), 0);
        assert.deepEqual(errors(), []);
      } finally {
        await app.stop({ quietMs: 20, timeoutMs: 2_000 });
        await double.stop();
      }
    });

    it('keeps reconnecting when the credentials are refused on reconnect, and comes back once they match', async () => {
      await withApp(kind, {}, async ({ double, app, logs }) => {
        double.pass = 'rotated';
        double.dropConnection();
        for (let i = 0; i < 500 && double.upgrades.filter((u) => u.status === 401).length < 2; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.ok(double.upgrades.filter((u) => u.status === 401).length >= 2, 'it kept trying');
        double.pass = 'test';
        await double.waitForApp(20_000);
        for (let i = 0; i < 100 && !app.isConnected; i++) await new Promise((r) => setTimeout(r, 10));
        const call = double.placeCall(outboundBlocked) as DoubleCall;
        await call.done;
        assert.equal(call.end, 'hangup');
        if (kind === 'undici') assert.ok(logs.errors().some((r) => /credentials/.test(r.msg ?? '')));
      });
    });

    it('refuses to start with wrong credentials, with an error that names them', async () => {
      const double = new AriDouble({ password: 'right' });
      const url = await double.start();
      const { logger } = memoryLogger();
      const app = contractApp(kind, url, logger);
      try {
        await assert.rejects(app.start(), AriAuthError);
      } finally {
        await double.stop();
      }
    });

    it('SIGTERM drains: live calls finish, the socket closes calmly, no call is left in Stasis', async () => {
      await withApp(
        kind,
        { channelvars: [...INPUT_VARIABLES], responseDelayMs: 30 },
        async ({ double, app }) => {
          const calls = Array.from({ length: 10 }, (_, i) =>
            double.placeCall(i % 2 === 0 ? outboundBlocked : specFor(ALLOWED_CALL)),
          ) as DoubleCall[];
          // wait (bounded) until the app holds them, so the drain has something to finish
          for (let i = 0; i < 200 && app.liveCalls < calls.length; i++)
            await new Promise((r) => setTimeout(r, 2));
          let exitCode: number | undefined;
          const stopped = new Promise<void>((resolve) => {
            const uninstall = drainOnSignals(
              () => app.stop({ quietMs: 20, timeoutMs: 5_000 }),
              memoryLogger().logger,
              (code) => {
                exitCode = code;
                uninstall();
                resolve();
              },
            );
          });
          process.emit('SIGTERM');
          await stopped;
          assert.equal(exitCode, 0);
          assert.equal(double.inStasis(), 0);
          assert.deepEqual(
            calls.map((c) => c.end),
            calls.map((_, i) => (i % 2 === 0 ? 'hangup' : 'continue')),
          );
          for (let i = 0; i < 100 && double.closeCodes.length === 0; i++)
            await new Promise((r) => setTimeout(r, 10));
          assert.equal(double.closeCodes.length, 1);
          if (kind === 'undici') assert.equal(double.closeCodes[0], 1000);
        },
      );
    });
  });
}
