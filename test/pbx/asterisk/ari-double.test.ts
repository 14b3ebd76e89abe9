import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { WebSocket } from 'ws';
import { AriDouble, type DoubleCall } from './ari-double.js';

/** The double must answer as the recorded Asterisk 22.10.1 did; these tests replay the recordings. */
const FIXTURES = new URL('../../fixtures/asterisk-ari/', import.meta.url);
const AUTH = `Basic ${Buffer.from('test:test').toString('base64')}`;

interface Exchange {
  seq: number;
  actor: string;
  request: { method: string; path: string; websocket_upgrade?: boolean };
  response: { status: number; content_type: string | null; body: string | null };
}

function httpLog(name: string): Exchange[] {
  return readFileSync(new URL(`events/${name}.http-log.jsonl`, FIXTURES), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Exchange);
}

function eventsOf(name: string): Array<Record<string, unknown>> {
  return readFileSync(new URL(`events/${name}.events.jsonl`, FIXTURES), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function keysOf(o: unknown): string[] {
  return Object.keys(o as object).sort();
}

async function openEvents(url: string): Promise<{ ws: WebSocket; frames: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ari/events?app=callguard&api_key=test:test`);
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((r) => ws.once('open', r));
  return { ws, frames };
}

/** The double has sent the frames once a call is done; the client reads them a moment later. */
async function waitForFrames(frames: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 200 && frames.length < n; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('ARI double: answers like the recorded Asterisk 22.10.1', { timeout: 30_000 }, () => {
  const double = new AriDouble();
  let url = '';
  beforeAll(async () => {
    url = await double.start();
  });
  afterAll(() => double.stop());

  it('serves the recorded api-docs with basePath pointing at itself', async () => {
    for (const name of ['resources', 'channels', 'events']) {
      const res = await fetch(`${url}/ari/api-docs/${name}.json`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-cache, no-store');
      const recorded = readFileSync(new URL(`api-docs/${name}.json`, FIXTURES), 'utf8');
      const host = new URL(url).host;
      assert.equal(await res.text(), recorded.replace('http://127.0.0.1:8088/ari', `http://${host}/ari`));
    }
  });

  it('requires authentication like Asterisk', async () => {
    const res = await fetch(`${url}/ari/api-docs/resources.json`);
    assert.equal(res.status, 401);
    assert.equal(await res.text(), '{"message":"Authentication required"}');
    const bad = await fetch(`${url}/ari/channels/x`, {
      method: 'DELETE',
      headers: { authorization: 'Basic eDp5' },
    });
    assert.equal(bad.status, 401);
  });

  it('replays d-error-cases: the same status and body for every request the app made', async () => {
    const { ws, frames } = await openEvents(url);
    const call = double.placeCall({
      called: '14045266123',
      calling: '18885550100',
      callerName: 'Edge Case',
      args: ['inbound'],
    }) as DoubleCall;
    const [epoch, n] = call.id.split('.');
    const ids: Record<string, string> = {
      '1795317068.9': call.id,
      '1795317068.8': `${epoch}.${Number(n) - 1}`,
    };
    for (const ex of httpLog('d-error-cases')) {
      if (ex.actor !== 'app' || ex.request.websocket_upgrade) continue;
      const path = ex.request.path.replace(/1795317068\.[89]/g, (m) => ids[m]);
      const res = await fetch(`${url}${path}`, {
        method: ex.request.method,
        headers: { authorization: AUTH },
      });
      const body = await res.text();
      assert.equal(res.status, ex.response.status, `${ex.seq} ${ex.request.method} ${ex.request.path}`);
      assert.equal(res.headers.get('content-type'), ex.response.content_type, `content type of ${ex.seq}`);
      if (ex.response.body?.startsWith('{"id"')) {
        const got = JSON.parse(body);
        const want = JSON.parse(ex.response.body);
        assert.deepEqual(keysOf(got), keysOf(want));
        assert.deepEqual(got.caller, want.caller);
        assert.deepEqual({ ...got.dialplan }, want.dialplan);
      } else {
        assert.equal(body, ex.response.body, `body of ${ex.seq}`);
      }
    }
    await call.done;
    const recorded = eventsOf('d-error-cases');
    await waitForFrames(frames, recorded.length);
    assert.deepEqual(
      frames.map((f) => f.type),
      recorded.map((f) => f.type),
    );
    for (let i = 0; i < recorded.length; i++) {
      assert.deepEqual(keysOf(frames[i]), keysOf(recorded[i]), `keys of ${String(recorded[i].type)}`);
      assert.deepEqual(keysOf(frames[i].channel), keysOf(recorded[i].channel));
    }
    assert.equal(frames[2].cause, 32);
    assert.equal(frames[2].soft, true);
    ws.close();
  });

  it('a caller hanging up gives ChannelHangupRequest without soft, then StasisEnd, as in c-answer-caller-hangup', async () => {
    const { ws, frames } = await openEvents(url);
    const call = double.placeCall({
      called: '14045266123',
      calling: '4045550177',
      args: ['inbound'],
      hangupAfterMs: 1,
    });
    await call?.done;
    const recorded = eventsOf('c-answer-caller-hangup').filter((e) => e.type !== 'ChannelStateChange');
    await waitForFrames(frames, recorded.length);
    assert.deepEqual(
      frames.map((f) => f.type),
      recorded.map((f) => f.type),
    );
    assert.deepEqual(keysOf(frames[1]), keysOf(recorded[1]));
    assert.equal(frames[1].cause, 16);
    assert.equal(call?.end, 'caller-hangup');
    ws.close();
  });

  it('exposes ari.conf channelvars in every channel snapshot, as in f-allow-with-channelvars', async () => {
    const withVars = new AriDouble({ channelvars: ['CALLGUARD_RESULT', 'CALLERID(num)', 'CALLERID(name)'] });
    const u = await withVars.start();
    try {
      const { ws, frames } = await openEvents(u);
      const call = withVars.placeCall({
        called: '14045266123',
        calling: '+14045550123',
        callerName: 'Alice Example',
        args: ['inbound'],
      }) as DoubleCall;
      const base = `${u}/ari/channels/${call.id}`;
      await fetch(`${base}/variable?variable=CALLGUARD_RESULT&value=allow`, {
        method: 'POST',
        headers: { authorization: AUTH },
      });
      await fetch(`${base}/continue`, { method: 'POST', headers: { authorization: AUTH } });
      await call.done;
      const recorded = eventsOf('f-allow-with-channelvars');
      await waitForFrames(frames, recorded.length);
      assert.deepEqual(
        frames.map((f) => (f.channel as { channelvars: unknown }).channelvars),
        recorded.map((f) => (f.channel as { channelvars: unknown }).channelvars),
      );
      ws.close();
    } finally {
      await withVars.stop();
    }
  });

  it('without an app connected, Stasis() fails (the dialplan sees STASISSTATUS=FAILED)', () => {
    const lonely = new AriDouble();
    assert.equal(lonely.placeCall({ called: '14045266123', args: ['inbound'] }), undefined);
  });
});
