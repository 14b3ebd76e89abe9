/**
 * How a retry delay grows after failures in a row: from `firstMs`, doubling at each further failure,
 * never above `maxMs`. Every reconnect and retry loop of callguard (Redis, the rule sync and change
 * tail, ARI, ESL, the supervisor's restarts, webhooks, the event and audit writers) takes its delay
 * from here, so they all grow the same way.
 */
export interface BackoffSteps {
  readonly firstMs: number;
  readonly maxMs: number;
  /** Doublings at most, below maxMs too (default 50: only maxMs caps). */
  readonly maxDoublings?: number;
}

/** The delay after `failures` failed attempts in a row (1: after the first one): firstMs × 2^(failures − 1), capped. */
export function backoffMs(failures: number, steps: BackoffSteps): number {
  const doublings = Math.min(Math.max(0, failures - 1), steps.maxDoublings ?? 50);
  return Math.min(steps.maxMs, steps.firstMs * 2 ** doublings);
}

/** A backoff that counts its failures: next() after each failure, reset() after a success; with ±20% jitter. */
export class Backoff {
  private attempt = 0;
  private readonly steps: BackoffSteps;

  constructor(opts: { readonly initialMs?: number; readonly maxMs?: number } = {}) {
    this.steps = { firstMs: opts.initialMs ?? 100, maxMs: opts.maxMs ?? 5_000, maxDoublings: 20 };
  }

  /** The delay before the next attempt. */
  next(): number {
    const base = backoffMs(++this.attempt, this.steps);
    // ±20% so that many nodes do not reconnect in step after a peer restarts
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
