import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'vitest';
import { AbsentPeerLog } from '../../src/pbx/absent-peer-log.js';
import { AriHttpClient } from '../../src/pbx/asterisk/ari-http-client.js';
import { eventually, memoryLogger } from '../support/memory-logger.js';
import { AriDouble } from './asterisk/ari-double.js';

const WARN = 40;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test('an absent peer is reported once, then at most one line a minute, then once when it is back', () => {
  const { logger, records } = memoryLogger();
  let now = 0;
  const absence = new AbsentPeerLog(logger, 'Asterisk ARI', { now: () => now });
  // five minutes of attempts every 5 s: 60 failures
  for (let i = 0; i < 60; i++, now += 5_000) absence.failed({ delayMs: 5000 });
  const warnings = records.filter((r) => r.level >= WARN);
  assert.equal(warnings.length, 5, warnings.map((w) => w.msg).join('\n'));
  assert.match(warnings[0]!.msg!, /not reachable; retrying quietly/);
  assert.match(warnings[1]!.msg!, /still not reachable/);
  absence.reachable();
  absence.reachable();
  const back = records.filter((r) => /reachable again/.test(r.msg ?? ''));
  assert.equal(back.length, 1);
  assert.equal(back[0]!.awayForS, 300);
});

test('the ARI client with no Asterisk says so once while it keeps retrying, and finds it when it comes up', async () => {
  const { logger, records } = memoryLogger();
  const port = await freePort();
  const client = new AriHttpClient({
    url: `http://127.0.0.1:${port}`,
    username: 'test',
    password: 'test',
    app: 'callguard',
    logger,
    backoff: { initialMs: 5, maxMs: 20 },
  });
  const listener = { onConnected() {}, onDisconnected() {}, onEvent() {} };
  const started = client.start(listener);
  const retried = () => records.filter((r) => /not reachable/.test(r.msg ?? '')).length >= 20;
  assert.ok(await eventually(retried, 10_000), 'the client kept retrying');
  const loud = records.filter((r) => r.level >= WARN);
  assert.equal(loud.length, 1, `one warning, not one per attempt: ${loud.map((r) => r.msg).join(' | ')}`);
  assert.match(loud[0]!.msg!, new RegExp(`Asterisk ARI at http://127.0.0.1:${port} is not reachable`));

  const double = new AriDouble();
  await double.start(port);
  try {
    await started;
    assert.ok(await eventually(() => records.some((r) => /reachable again/.test(r.msg ?? ''))));
  } finally {
    await client.closeEvents({ quietMs: 10, maxWaitMs: 200 });
    await client.dispose();
    await double.stop();
  }
});
