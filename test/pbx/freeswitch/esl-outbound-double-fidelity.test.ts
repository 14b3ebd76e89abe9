// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is FreeSWITCH syntax under test, not a template
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'vitest';
import { type EslMessage, EslParser } from '../../../src/pbx/freeswitch/esl-codec.js';
import type { DoubleCallResult } from './esl-double-common.js';
import { FreeswitchOutboundDouble } from './esl-outbound-double.js';
import { readRecording } from './esl-recordings.js';
import { expandVariables, separateString } from './freeswitch-text-semantics.js';

const keyOf = (m: { content_type?: string | null; event_name?: string | null }) =>
  `${m.content_type ?? ''} ${m.event_name ?? ''}`;

const keyOfMessage = (m: EslMessage) => {
  const type = m.headers['Content-Type'] ?? '';
  const name = m.body ? /^Event-Name: (\S+)$/m.exec(m.body)?.[1] : undefined;
  return `${type} ${name ?? ''}`;
};

/**
 * Plays the app side of a recording against the outbound double: each write goes out once the
 * double has sent what FreeSWITCH had sent before it (the same message type, as many times).
 * CHANNEL_PARK is never waited for: whether it comes is a race (fixtures README, point 3).
 */
async function replayApp(scenario: string): Promise<DoubleCallResult> {
  const lines = readRecording(scenario);
  const steps: Array<{ write: string; after?: { key: string; nth: number } }> = [];
  const seen = new Map<string, number>();
  let last: string | undefined;
  for (const l of lines) {
    if (l.dir === 'fs->app') {
      const key = keyOf(l);
      if (l.event_name === 'CHANNEL_PARK') continue;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      last = key;
    } else if (l.dir === 'app->fs' && l.raw) {
      steps.push({ write: l.raw, after: last ? { key: last, nth: seen.get(last) ?? 0 } : undefined });
    }
  }
  const server = createServer((socket: Socket) => {
    const got = new Map<string, number>();
    const waiters: Array<() => void> = [];
    const parser = new EslParser((m) => {
      got.set(keyOfMessage(m), (got.get(keyOfMessage(m)) ?? 0) + 1);
      for (const w of waiters.splice(0)) w();
    });
    socket.on('data', (c: Buffer) => parser.push(c));
    socket.on('error', () => {});
    const until = (key: string, nth: number) =>
      new Promise<void>((resolve) => {
        const check = () => ((got.get(key) ?? 0) >= nth ? resolve() : waiters.push(check));
        check();
      });
    void (async () => {
      for (const step of steps) {
        if (step.after) await until(step.after.key, step.after.nth);
        socket.write(step.write);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const double = new FreeswitchOutboundDouble({ port });
  const r = await double.placeCall({ tenant: 'acme', called: '3712345678', calling: '14045266123' });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

describe('ESL outbound double carries out recorded app traffic as FreeSWITCH 1.10.12 did', () => {
  it('b-allowed-pipelined: both variables set and the dialplan goes on in one tick', async () => {
    const r = await replayApp('outbound-mode/b-allowed-pipelined');
    assert.equal(r.end, 'continue');
    assert.equal(r.variables.CALLGUARD_RESULT, 'allow');
    assert.equal(r.variables.CALLGUARD_RULE, '7');
    assert.equal(r.ticks, 1);
  });

  it('b-allowed-resume-exit: waiting for the set to complete before exit costs a second tick', async () => {
    const r = await replayApp('outbound-mode/b-allowed-resume-exit');
    assert.equal(r.end, 'continue');
    assert.equal(r.variables.CALLGUARD_RESULT, 'allow');
    assert.equal(r.ticks, 2);
    assert.ok((r.latencyMs ?? 0) >= 20, 'the dialplan goes on no earlier than the second boundary');
  });

  it('a-blocked-pipelined: set and hangup in one tick', async () => {
    const r = await replayApp('outbound-mode/a-blocked-pipelined');
    assert.equal(r.end, 'hangup');
    assert.equal(r.cause, 'CALL_REJECTED');
    assert.equal(r.ticks, 1);
  });

  it('e-set-expands-variables: set runs ${strftime(...)} and ${uuid} like the switch did', async () => {
    const recorded = readRecording('outbound-mode/e-set-expands-variables');
    const arrived = recorded.find((l) => (l.raw ?? '').includes('variable_CALLGUARD_BUSINESS_RESULT'));
    assert.match(
      decodeURIComponent(arrived?.raw ?? ''),
      /variable_CALLGUARD_BUSINESS_RESULT: Y=\d{4} U=[0-9a-f-]{36}\n/,
    );
    const r = await replayApp('outbound-mode/e-set-expands-variables');
    assert.equal(r.end, 'hangup');
    assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, `Y=${new Date().getUTCFullYear()} U=${r.uuid}`);
  });
});

describe('FreeSWITCH text semantics the doubles use', () => {
  it('expansion: variables, APIs, recursion, and text without ${ left alone', () => {
    const vars = { uuid: 'u-1', A: '${B}', B: 'b' };
    assert.equal(expandVariables('x ${uuid} ${A} ${nope}.', vars), 'x u-1 b .');
    assert.equal(expandVariables('${strftime(%Y)}', vars, new Date('2026-01-02T00:00:00Z')), '2026');
    for (const plain of ['$5 {z}', '50% off', 'a=b', '$HOME', 'Don"t'])
      assert.equal(expandVariables(plain, vars), plain);
  });

  it("uuid_setvar's line splitting keeps the value but eats paired single quotes and backslashes", () => {
    assert.deepEqual(separateString('u1 NAME a  b "c" 50%', 3), ['u1', 'NAME', 'a  b "c" 50%']);
    assert.deepEqual(separateString("u1 NAME 'quoted' x", 3), ['u1', 'NAME', 'quoted x']);
    assert.deepEqual(separateString('u1 NAME a\\tb', 3), ['u1', 'NAME', 'a\tb']);
  });
});
