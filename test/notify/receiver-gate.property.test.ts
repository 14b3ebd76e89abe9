import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ReceiverGate } from '../../src/notify/receiver-gate.js';

type Op =
  | { kind: 'enter'; receiver: number; job: number; after: number }
  | { kind: 'leave'; receiver: number; answered: boolean; after: number }
  | { kind: 'behind' | 'unhold'; receiver: number; after: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('enter' as const),
    receiver: fc.nat(2),
    job: fc.nat(30),
    after: fc.nat(80),
  }),
  fc.record({
    kind: fc.constant('leave' as const),
    receiver: fc.nat(2),
    answered: fc.boolean(),
    after: fc.nat(80),
  }),
  fc.record({
    kind: fc.constantFrom('behind' as const, 'unhold' as const),
    receiver: fc.nat(2),
    after: fc.nat(80),
  }),
);

/**
 * Whatever the order of deliveries starting and ending across receivers, one receiver never has
 * more than its share in flight, one whose last attempt went unanswered never gets a second one
 * beside the one in flight, no more than `hereMax` wait in memory for a turn (and as many behind
 * their lanes' holders), and a turn goes to those
 * waiting in memory first, then to the oldest told to wait elsewhere. Reference: counts kept beside
 * the gate.
 */
describe('ReceiverGate', () => {
  it('keeps each receiver within its share, and a silent one to one attempt at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(op, { maxLength: 200 }),
        async (share, hereMax, ops) => {
          let clock = 1_000;
          const gate = new ReceiverGate(share, hereMax, () => clock);
          const inFlight = [0, 0, 0];
          const here = [0, 0, 0];
          const behind = [0, 0, 0];
          const silent = [false, false, false];
          const told = [[], [], []] as string[][];
          const waits: Promise<boolean>[] = [];
          for (const o of ops) {
            clock += o.after;
            const r = o.receiver;
            const key = `r${r}`;
            if (o.kind === 'enter') {
              const job = `j${o.job}`;
              const answer = gate.enter(key, job);
              // While silent, nothing new is sent beside a delivery in flight.
              assert.equal(answer === 'silent', silent[r] && inFlight[r] > 0, 'silent when it is');
              if (answer === 'send') {
                inFlight[r]++;
                told[r] = told[r].filter((j) => j !== job);
              }
              if (answer === 'waitHere') {
                assert.ok(!silent[r] && here[r] < hereMax, 'waits here only within hereMax');
                here[r]++;
                waits.push(gate.waitHere(key, 60_000));
              }
              if (answer === 'wait' && !told[r].includes(job)) told[r].push(job);
              assert.ok(inFlight[r] <= share, 'within the share');
              assert.ok(here[r] <= hereMax && behind[r] <= hereMax, 'within what may wait here');
            } else if (o.kind === 'behind') {
              if (gate.holdHere(key)) {
                assert.ok(!silent[r], 'none waits behind a silent receiver’s holder');
                behind[r]++;
              }
              assert.ok(here[r] <= hereMax && behind[r] <= hereMax, 'within what may wait here');
            } else if (o.kind === 'unhold') {
              if (behind[r] > 0) {
                gate.releaseHere(key);
                behind[r]--;
              }
            } else if (o.kind === 'leave' && inFlight[r] > 0) {
              inFlight[r]--;
              const { wasSilent, next } = gate.leave(key, o.answered, clock - o.after);
              assert.equal(wasSilent, silent[r]);
              silent[r] = !o.answered;
              if (silent[r]) here[r] = 0;
              else if (here[r] > 0) {
                here[r]--;
                inFlight[r]++;
                assert.equal(next, undefined, 'the turn went to one waiting here');
                continue;
              }
              if (!silent[r]) assert.equal(next, told[r].shift(), 'the oldest told to wait goes next');
            }
          }
          // Whatever still waits here is let go (their timers end with them).
          for (let r = 0; r < 3; r++) if (here[r] > 0) gate.leave(`r${r}`, false, clock);
          await Promise.all(waits);
        },
      ),
    );
  });
});
