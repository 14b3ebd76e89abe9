import type { BackoffOptions } from './ari-connection.js';

/** Exponential backoff with jitter, reset on success; never gives up (a PBX may be down for a while). */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 5_000;
  }

  /** The delay before the next attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    // ±20% so that many nodes do not reconnect in step after an Asterisk restart
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
