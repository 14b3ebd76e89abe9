import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  ESL_LIMITS,
  type EslMessage,
  EslParser,
  encodeCommand,
  encodeSendmsg,
  eventOf,
  parseHeaderBlock,
  urlDecode,
} from '../../../src/pbx/freeswitch/esl-codec.js';
import { replyOf } from '../../../src/pbx/freeswitch/esl-connection.js';
import { RECORDED_SCENARIOS, readRecording, readStream, recordedMessage } from './esl-recordings.js';

function parseChunked(stream: Buffer, sizes: number[]): EslMessage[] {
  const out: EslMessage[] = [];
  const parser = new EslParser((m) => out.push(m));
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const size = sizes.length === 0 ? stream.length : sizes[i++ % sizes.length];
    parser.push(stream.subarray(at, at + size));
    at += size;
  }
  return out;
}

function parseOne(raw: string): EslMessage {
  const out = parseChunked(Buffer.from(raw, 'utf8'), []);
  assert.equal(out.length, 1, 'one recorded message parses to one message');
  return out[0];
}

describe('ESL codec against recorded FreeSWITCH 1.10.12 traffic', () => {
  for (const scenario of RECORDED_SCENARIOS) {
    it(`${scenario}: every message framed the same whatever the chunking`, () => {
      const stream = readStream(scenario, 'fs-to-app');
      const recorded = readRecording(scenario).filter((l) => l.dir === 'fs->app');
      const whole = parseChunked(stream, []);
      assert.equal(whole.length, recorded.length);
      whole.forEach((m, i) => {
        assert.equal(
          m.headers['Content-Type'] ?? null,
          recorded[i].content_type ?? null,
          `message ${i} type`,
        );
        const name = eventOf(m)?.name;
        if (recorded[i].event_name) assert.equal(name, recorded[i].event_name, `message ${i} event`);
      });
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (sizes) => {
          assert.deepEqual(parseChunked(stream, sizes), whole);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('one header read in place equals the same header of the event read whole', () => {
    for (const scenario of RECORDED_SCENARIOS) {
      for (const m of parseChunked(readStream(scenario, 'fs-to-app'), [])) {
        const whole = eventOf(m);
        if (!whole) continue;
        for (const [name, value] of Object.entries(whole.headers)) {
          const fresh = eventOf(m);
          assert.equal(fresh?.get?.(name), value, `${scenario} ${whole.name} ${name}`);
        }
      }
    }
  });

  it('outbound connect reply: a CHANNEL_DATA event with URL-decoded values and no Content-Length', () => {
    const raw = recordedMessage('outbound-mode/a-blocked-pipelined', (l) =>
      (l.raw ?? '').startsWith('Event-Name: CHANNEL_DATA'),
    );
    const m = parseOne(raw);
    assert.equal(m.body, undefined);
    const reply = replyOf(m);
    assert.equal(reply.ok, true);
    assert.equal(m.headers['Reply-Text'], '+OK\n');
    // the reply's own headers are the CHANNEL_DATA event
    const data = m.headers;
    assert.equal(data['Caller-Caller-ID-Number'], '14045266123');
    assert.equal(data['Caller-Destination-Number'], '3712345678');
    assert.equal(data.variable_CALLGUARD_TENANT, 'acme');
    assert.equal(data['Socket-Mode'], 'async');
    assert.equal(data['FreeSWITCH-IPv6'], 'fd00::2');
    assert.equal(data.variable_current_application_data, '127.0.0.1:8084 async full');
  });

  it('BACKGROUND_JOB carries its result as the inner body, plain and json alike', () => {
    const plain = eventOf(
      parseOne(
        recordedMessage('inbound-mode/plain-park-setvar-kill', (l) => l.event_name === 'BACKGROUND_JOB'),
      ),
    );
    assert.equal(plain?.body, '-ERR CALL_REJECTED\n');
    assert.match(plain?.headers['Job-Command-Arg'] ?? '', /^\{origination_uuid=/);
    const json = eventOf(
      parseOne(
        recordedMessage('inbound-mode/json-park-setvar-transfer', (l) => l.event_name === 'BACKGROUND_JOB'),
      ),
    );
    assert.match(json?.body ?? '', /^\+OK [0-9a-f-]{36}\n$/);
  });

  it('json CHANNEL_PARK: string headers kept, array values (DP_MATCH) left out', () => {
    const park = eventOf(
      parseOne(
        recordedMessage('inbound-mode/json-park-setvar-transfer', (l) => l.event_name === 'CHANNEL_PARK'),
      ),
    );
    assert.equal(park?.headers['Call-Direction'], 'inbound');
    assert.equal(park?.headers.variable_CALLGUARD_TENANT, 'acme');
    assert.equal(park?.headers.variable_DP_MATCH, undefined);
  });

  it('api replies: no trailing newline (uuid_exists) and -ERR are read as such', () => {
    const lines = readRecording('inbound-mode/plain-api-misc').filter(
      (l) => l.content_type === 'api/response',
    );
    const texts = lines.map((l) => replyOf(parseOne(l.raw ?? '')));
    assert.ok(texts.some((r) => r.text === 'false' && r.ok));
    assert.ok(texts.some((r) => r.text === '-ERR No such channel!' && !r.ok));
  });

  it('a malformed percent sequence is kept as it came, never thrown on', () => {
    assert.equal(urlDecode('100%zz'), '100%zz');
    assert.equal(urlDecode('Outbound%20Call'), 'Outbound Call');
    assert.deepEqual(parseHeaderBlock('Caller-Caller-ID-Name: %E0%A4%A\nA: b'), {
      'Caller-Caller-ID-Name': '%E0%A4%A',
      A: 'b',
    });
  });

  it('a value cannot smuggle a second command: line breaks become spaces', () => {
    assert.equal(encodeCommand('api uuid_kill x\n\nexit'), 'api uuid_kill x exit\n\n');
    assert.equal(
      encodeSendmsg({ 'call-command': 'execute', 'execute-app-arg': 'A=b\nc' }),
      'sendmsg\ncall-command: execute\nexecute-app-arg: A=b c\n\n',
    );
  });
});

/** Pushes `chunk` until the parser throws or `budget` bytes went in; returns the error and the bytes. */
function pushUntilRefused(parser: EslParser, chunk: Buffer, budget: number) {
  let pushed = 0;
  try {
    while (pushed < budget) {
      parser.push(chunk);
      pushed += chunk.length;
    }
  } catch (err) {
    return { err: err as { code?: string; message: string }, pushed };
  }
  return { err: undefined, pushed };
}

describe('ESL codec: size limits', () => {
  it('the limits leave at least 16 times the largest message FreeSWITCH sent in the recordings', () => {
    let header = 0;
    let body = 0;
    for (const scenario of RECORDED_SCENARIOS) {
      for (const l of readRecording(scenario)) {
        if (l.dir !== 'fs->app' || !l.raw) continue;
        const raw = Buffer.from(l.raw, 'utf8');
        const end = raw.indexOf('\n\n');
        header = Math.max(header, end);
        body = Math.max(body, raw.length - end - 2);
      }
    }
    assert.ok(header > 3000, 'the connect reply (channel data) is the largest header block');
    assert.ok(header * 16 <= ESL_LIMITS.maxHeaderBytes);
    assert.ok(body * 16 <= ESL_LIMITS.maxBodyBytes);
  });

  it('a-header-block-that-never-ends-is-refused-once-past-the-limit-not-buffered', () => {
    const parser = new EslParser(() => assert.fail('no message was sent'));
    const flood = Buffer.from(`X-Flood: ${'a'.repeat(16 * 1024 - 10)}\n`);
    const { err, pushed } = pushUntilRefused(parser, flood, 1024 * 1024);
    assert.equal(err?.code, 'CG_ERR_ESL_PROTOCOL');
    assert.match(err?.message ?? '', /header block longer than the 65536 bytes accepted/);
    assert.ok(pushed <= ESL_LIMITS.maxHeaderBytes, 'refused on the chunk that crossed the limit');
  });

  it('a-header-block-past-the-limit-in-one-chunk-with-its-end-is-refused-too', () => {
    const parser = new EslParser(() => assert.fail('no message was sent'));
    const block = `Content-Type: command/reply\nX-Big: ${'a'.repeat(ESL_LIMITS.maxHeaderBytes)}\n\n`;
    assert.throws(() => parser.push(Buffer.from(block)), { code: 'CG_ERR_ESL_PROTOCOL' });
  });

  it('a-content-length-past-the-limit-is-refused-at-its-header-before-any-body', () => {
    const parser = new EslParser(() => assert.fail('no message was sent'));
    assert.throws(
      () => parser.push(Buffer.from('Content-Length: 4000000000\nContent-Type: api/response\n\n')),
      { code: 'CG_ERR_ESL_PROTOCOL', message: /Content-Length 4000000000, more than the 4194304 bytes/ },
    );
  });

  it('a-body-of-exactly-the-limit-in-many-chunks-is-one-message', () => {
    const out: EslMessage[] = [];
    const parser = new EslParser((m) => out.push(m));
    const size = ESL_LIMITS.maxBodyBytes;
    const stream = Buffer.concat([
      Buffer.from(`Content-Length: ${size}\nContent-Type: api/response\n\n`),
      Buffer.alloc(size, 'x'),
      Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n'),
    ]);
    for (let at = 0; at < stream.length; at += 65_521) parser.push(stream.subarray(at, at + 65_521));
    assert.equal(out.length, 2);
    assert.equal(out[0].body?.length, size);
    assert.equal(out[1].headers['Reply-Text'], '+OK');
  });
});

describe('ESL double frames', () => {
  it('recorded frames re-rendered from their templates are byte-exact', async () => {
    const { loadTemplates, renderConnectReply, renderPlainEvent, renderJsonEvent } = await import(
      './esl-frames.js'
    );
    const t = loadTemplates();
    const connect = recordedMessage('outbound-mode/a-blocked-pipelined', (l) =>
      (l.raw ?? '').startsWith('Event-Name: CHANNEL_DATA'),
    );
    assert.equal(renderConnectReply(t.connectReply.pairs), connect);
    const hangup = recordedMessage(
      'outbound-mode/a-blocked-pipelined',
      (l) => l.event_name === 'CHANNEL_HANGUP_COMPLETE',
    );
    assert.equal(renderPlainEvent(t.outbound.hangupComplete.pairs), hangup);
    const job = recordedMessage(
      'inbound-mode/plain-park-setvar-kill',
      (l) => l.event_name === 'BACKGROUND_JOB',
    );
    assert.equal(
      renderPlainEvent(t.inbound.plain.backgroundJob.pairs, t.inbound.plain.backgroundJob.body),
      job,
    );
    const park = recordedMessage(
      'inbound-mode/json-park-setvar-transfer',
      (l) => l.event_name === 'CHANNEL_PARK',
    );
    assert.equal(renderJsonEvent(t.inbound.json.park.pairs), park);
  });
});
