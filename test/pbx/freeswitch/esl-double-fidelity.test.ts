import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'vitest';
import { type EslMessage, EslParser } from '../../../src/pbx/freeswitch/esl-codec.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';
import { readRecording } from './esl-recordings.js';

/** Replays what the app wrote in a recording against the double and collects what the double answers. */
async function replay(port: number, writes: string[], expected: number): Promise<EslMessage[]> {
  const socket = connect({ host: '127.0.0.1', port });
  const got: EslMessage[] = [];
  const parser = new EslParser((m) => got.push(m));
  socket.on('data', (c: Buffer) => parser.push(c));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const until = async (n: number) => {
    for (let i = 0; i < 400 && got.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  await until(1); // auth/request
  let seen = 1;
  for (const w of writes) {
    socket.write(w);
    seen += 1;
    await until(seen);
  }
  await until(expected);
  socket.destroy();
  await closed;
  return got;
}

const summary = (m: EslMessage) => {
  const type = m.headers['Content-Type'];
  if (type === 'api/response') return `${type} ${(m.body ?? '').split('\n')[0].replace(/ .*/, '')}`;
  if (type === 'command/reply')
    return `${type} ${(m.headers['Reply-Text'] ?? '').replace(/Job-UUID: .*/, 'Job-UUID')}`;
  return `${type}${m.body ? ` ${m.body.split('\n')[0]}` : ''}`;
};

describe('ESL inbound double answers as FreeSWITCH 1.10.12 did', () => {
  for (const scenario of ['inbound-mode/plain-api-misc', 'inbound-mode/plain-errors']) {
    it(`${scenario}: same replies to the same commands`, async () => {
      const lines = readRecording(scenario);
      const writes = lines.filter((l) => l.dir === 'app->fs').map((l) => l.raw ?? '');
      const recorded = lines
        .filter((l) => l.dir === 'fs->app')
        .map((l) => {
          const out: EslMessage[] = [];
          new EslParser((m) => out.push(m)).push(Buffer.from(l.raw ?? ''));
          return out[0];
        });
      const double = new FreeswitchInboundDouble({ password: 'ClueCon' });
      const port = await double.listen();
      const got = await replay(port, writes, recorded.length);
      await double.close();
      assert.deepEqual(got.map(summary), recorded.map(summary));
    });
  }
});

describe('ESL inbound double: bgapi', () => {
  it('bgapi answers with a Job-UUID and delivers the result as BACKGROUND_JOB', async () => {
    const double = new FreeswitchInboundDouble();
    const port = await double.listen();
    const writes = ['auth ClueCon\n\n', 'event plain BACKGROUND_JOB\n\n', 'bgapi uuid_exists nope\n\n'];
    const got = await replay(port, writes, 5);
    await double.close();
    const accepted = got[3];
    assert.equal(accepted.headers['Content-Type'], 'command/reply');
    const job = accepted.headers['Job-UUID'];
    assert.match(accepted.headers['Reply-Text'] ?? '', new RegExp(`^\\+OK Job-UUID: ${job}$`));
    const { eventOf } = await import('../../../src/pbx/freeswitch/esl-codec.js');
    const event = eventOf(got[4]);
    assert.equal(event?.name, 'BACKGROUND_JOB');
    assert.equal(event?.headers['Job-UUID'], job);
    assert.equal(event?.headers['Job-Command'], 'uuid_exists');
    assert.equal(event?.body, 'false');
  });
});
