import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { CallScreener } from '../../../src/call/call-screener.js';
import { configSchema } from '../../../src/config.js';
import { EslOutboundServer, eslPeersRefusedTotal } from '../../../src/pbx/freeswitch/esl-outbound-server.js';
import { PeerAllowlist } from '../../../src/pbx/freeswitch/peer-allowlist.js';
import { memoryLogger } from '../../support/memory-logger.js';
import { BLOCKED_CALL, contractSource } from '../contract/contract-tenants.js';
import { FreeswitchOutboundDouble } from './esl-outbound-double.js';

const refused = async () => (await eslPeersRefusedTotal.get()).values[0]?.value ?? 0;

async function serve(host: string, allowFrom?: string) {
  const logs = memoryLogger();
  const app = new EslOutboundServer({
    host,
    port: 0,
    allowFrom,
    screener: new CallScreener(contractSource(), new MemoryEventSink()),
    logger: logs.logger,
  });
  const port = await app.listen();
  return { app, logs, double: new FreeswitchOutboundDouble({ port, waitMs: 1000 }) };
}

describe('ESL outbound listener: ESL_ALLOW_FROM', () => {
  it('a-peer-outside-the-list-is-closed-at-once-and-counted', async () => {
    const { app, logs, double } = await serve('127.0.0.1', '10.0.0.0/8,fd00::/8');
    const before = await refused();
    const r = await double.placeCall(BLOCKED_CALL);
    // not even the channel data was asked for: nothing screened, nothing set, no webhook
    assert.deepEqual(r.commands, []);
    assert.equal(r.variables.CALLGUARD_RESULT, undefined);
    assert.equal(await refused(), before + 1);
    assert.ok(
      logs.records.some((l) => l.msg === 'ESL outbound: peer not in ESL_ALLOW_FROM; connection closed'),
    );
    await app.drain();
  });

  it('the-default-list-takes-loopback-also-as-an-ipv4-mapped-ipv6-peer', async () => {
    // listening on :: makes an IPv4 peer appear as ::ffff:127.0.0.1
    const { app, double } = await serve('::');
    const r = await double.placeCall(BLOCKED_CALL);
    assert.equal(r.end, 'hangup');
    assert.equal(r.variables.CALLGUARD_RESULT, 'block');
    await app.drain();
  });

  it('matching-rules', () => {
    const list = new PeerAllowlist('127.0.0.1/32,::1/128,192.0.2.0/24');
    // IPv4-mapped and IPv4-compatible forms are the IPv4 address they carry (ipaddr.js process())
    for (const ok of [
      '127.0.0.1',
      '::ffff:127.0.0.1',
      '::127.0.0.1',
      '::1',
      '192.0.2.77',
      '::ffff:192.0.2.1',
    ])
      assert.equal(list.allows(ok), true, ok);
    for (const no of ['127.0.0.2', '::2', '198.51.100.1', '::ffff:10.0.0.1', 'localhost', '', undefined])
      assert.equal(list.allows(no), false, String(no));
  });

  it('a-bad-list-stops-start-up-naming-the-entry', () => {
    const r = configSchema.safeParse({ ESL_ALLOW_FROM: '127.0.0.1/32, 10.0.0.0/33' });
    assert.equal(r.success, false);
    assert.match(r.error?.issues[0]?.message ?? '', /"10\.0\.0\.0\/33" is not an IPv4 or IPv6 CIDR/);
    assert.equal(configSchema.parse({}).ESL_ALLOW_FROM, '127.0.0.1/32,::1/128');
  });
});
