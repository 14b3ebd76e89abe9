// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is FreeSWITCH syntax under test, not a template
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { CallScreener } from '../../../src/call/call-screener.js';
import { EslInboundClient } from '../../../src/pbx/freeswitch/esl-inbound-client.js';
import { memoryLogger } from '../../support/memory-logger.js';
import { ALLOWED_CALL, contractSource } from '../contract/contract-tenants.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';

describe('ESL inbound mode: the caller-chosen destination on uuid_transfer', () => {
  it('only a dialable destination is put on the uuid_transfer line', async () => {
    const double = new FreeswitchInboundDouble();
    const port = await double.listen();
    const app = new EslInboundClient({
      host: '127.0.0.1',
      port,
      password: 'ClueCon',
      screener: new CallScreener(contractSource(), new MemoryEventSink()),
      logger: memoryLogger().logger,
      transferContext: 'callguard_result',
    });
    await app.start();
    await double.waitForSubscriber();
    try {
      for (const called of [
        '3712345678',
        '+3712345678',
        '*67',
        '#31#4045550100',
        'alice.smith@example.com',
      ]) {
        const r = await double.placeCall({ ...ALLOWED_CALL, called });
        assert.equal(r.transfer, `${called} XML callguard_result`, called);
      }
      // a space would add arguments (another context), ${...} would be expanded by the dialplan later,
      // a leading - is a uuid_transfer flag: such a call cannot be handed back, so it is refused
      for (const called of ['3712345678 XML default', '${system(id)}', '-both', "1'2", 'a\\b', '']) {
        const r = await double.placeCall({ ...ALLOWED_CALL, called });
        assert.equal(r.transfer, undefined, called);
        assert.ok(!r.commands.includes('uuid_transfer'), called);
        assert.equal(r.end, 'hangup', called);
        assert.equal(r.cause, 'INVALID_NUMBER_FORMAT', called);
      }
    } finally {
      await app.drain();
      await double.close();
    }
  });
});
