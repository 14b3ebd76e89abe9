import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Backoff, backoffMs } from '../src/backoff.js';

describe('backoffMs', () => {
  it('starts at the first delay, doubles per failure and stops at the cap', () => {
    const steps = { firstMs: 100, maxMs: 5_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((f) => backoffMs(f, steps)),
      [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000],
    );
    assert.equal(backoffMs(0, steps), 100, 'no failure yet: the first delay');
    assert.equal(backoffMs(10_000, steps), 5_000, 'a long outage stays at the cap');
  });

  it('stops doubling after maxDoublings even below the cap', () => {
    const steps = { firstMs: 20, maxMs: 5_000, maxDoublings: 6 };
    assert.deepEqual(
      [1, 7, 8, 100].map((f) => backoffMs(f, steps)),
      [20, 1_280, 1_280, 1_280],
    );
  });

  it('never goes below the first delay nor above the cap, and never shrinks as failures go on', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
        (firstMs, extra, failures, maxDoublings) => {
          const steps = { firstMs, maxMs: firstMs + extra, maxDoublings };
          const d = backoffMs(failures, steps);
          assert.ok(d >= firstMs && d <= steps.maxMs, `${d}`);
          assert.ok(backoffMs(failures + 1, steps) >= d);
        },
      ),
    );
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, with ±20% jitter, and starts over after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000 });
    const bases = [100, 200, 400, 800, 1_000, 1_000];
    for (const base of bases) {
      const d = b.next();
      assert.ok(d >= base * 0.8 && d <= base * 1.2, `${d} near ${base}`);
    }
    assert.equal(b.attempts, bases.length);
    b.reset();
    assert.ok(b.next() <= 120);
  });
});
