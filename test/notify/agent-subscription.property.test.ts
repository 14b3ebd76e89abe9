import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { AgentSubscription, agentOf } from '../../src/notify/agent-event-hub.js';
import type { StreamEntry } from '../../src/store/event-stream-reader.js';

const entry = (i: number, agent: string): StreamEntry => ({
  position: `${1_000 + Math.floor(i / 3)}-${i % 3}`,
  id: `e${i}`,
  type: 'agent.popup',
  body: JSON.stringify({ id: `e${i}`, type: 'agent.popup', data: { agent } }),
});

/**
 * How a stream is joined from a Last-Event-ID replay and the tenant's live tail: whatever the
 * interleaving of the two (each in stream order) and whenever the HTTP answer starts, the client gets
 * exactly the agent's entries after the resume point, in order, once. Reference: a filter of the
 * stream.
 */
describe('AgentSubscription: replay and live tail joined', () => {
  it('sends each of the agent’s entries after the resume point once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.array(fc.boolean(), { maxLength: 120 }),
        fc.nat(),
        (agents, rSeed, tSeed, eSeed, coin, attachSeed) => {
          const stream = agents.map((a, i) => entry(i, a));
          const n = stream.length;
          // resume after index r (-1: from the start); the tail started at t >= r; the replay read up to e >= t
          const r = (rSeed % (n + 1)) - 1;
          const t = r + (tSeed % (n - r));
          const e = t + (eSeed % (n - t));
          const start = t < 0 ? '0-0' : stream[t]!.position;
          const sent: string[] = [];
          const sub = new AgentSubscription('a', start, 10_000, () => undefined);
          sub.rewind(r < 0 ? '0-0' : stream[r]!.position);
          const sink = { event: (x: StreamEntry) => sent.push(x.id), heartbeat() {}, end() {} };
          const replay = stream.slice(r + 1, e + 1);
          const live = stream.slice(t + 1);
          let attachAt = attachSeed % (replay.length + live.length + 2);
          const step = () => {
            if (attachAt-- === 0) sub.attach(sink);
          };
          let ri = 0;
          let li = 0;
          let k = 0;
          // before goLive: replay and tail interleaved as the coins say
          while (ri < replay.length) {
            step();
            if (li < live.length && coin[k++ % Math.max(1, coin.length)]) {
              const x = live[li++]!;
              sub.offer(x, agentOf(x));
            } else sub.replay(replay[ri++]!);
          }
          sub.goLive();
          while (li < live.length) {
            step();
            const x = live[li++]!;
            sub.offer(x, agentOf(x));
          }
          if (attachAt >= 0) sub.attach(sink);
          const expected = stream
            .slice(r + 1)
            .filter((x) => agentOf(x) === 'a')
            .map((x) => x.id);
          assert.deepEqual(sent, expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
