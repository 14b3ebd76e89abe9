import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { loadConfig } from '../../../src/config.js';
import { drainOnSignals, FreeswitchApp } from '../../../src/pbx/freeswitch/freeswitch-app.js';
import { eventually, memoryLogger } from '../../support/memory-logger.js';
import { ACME, contractSource } from '../contract/contract-tenants.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';
import { FreeswitchOutboundDouble } from './esl-outbound-double.js';

const ANONYMOUS_CALL = { tenant: ACME, direction: 'inbound', called: '14045266123' } as const;

describe('FreeSWITCH app (ESL_MODE=both)', () => {
  it('both-modes-screen-over-one-screener-and-drain-on-sigterm', async () => {
    const inboundDouble = new FreeswitchInboundDouble();
    const eslPort = await inboundDouble.listen();
    const config = loadConfig({
      ESL_MODE: 'both',
      ESL_LISTEN_PORT: '1', // replaced below: the test listens on a free port
      ESL_PORT: String(eslPort),
    });
    const logs = memoryLogger();
    const app = new FreeswitchApp({
      config: { ...config, ESL_LISTEN_PORT: 0 as unknown as number },
      source: contractSource(),
      events: new MemoryEventSink(),
      logger: logs.logger,
    });
    await app.start();
    assert.ok(app.listenPort && app.listenPort > 0);
    assert.equal(config.ESL_TRANSFER_CONTEXT, 'callguard_result');
    const outboundDouble = new FreeswitchOutboundDouble({ port: app.listenPort });
    const viaSocket = await outboundDouble.placeCall(ANONYMOUS_CALL);
    assert.equal(viaSocket.end, 'hangup');
    assert.ok(await inboundDouble.waitForSubscriber(3000));
    const viaPark = await inboundDouble.placeCall(ANONYMOUS_CALL);
    assert.equal(viaPark.end, 'hangup');
    assert.equal(viaPark.variables.CALLGUARD_RULE, '6');

    const remove = drainOnSignals(app, logs.logger, false);
    process.emit('SIGTERM', 'SIGTERM');
    assert.ok(await eventually(() => logs.records.some((r) => r.msg === 'drained')));
    remove();
    const refused = await outboundDouble.placeCall(ANONYMOUS_CALL);
    assert.equal(refused.variables.CALLGUARD_RESULT, undefined, 'no calls taken after the drain');
    assert.deepEqual(logs.errors(), []);
    await inboundDouble.close();
  });
});
