import type { CallContext } from '../domain/call-context.js';
import { hashKey, MAX_KEY_CHARS, packPrefix } from './number-key.js';

/**
 * A call's numbers as the index reads them, computed once per decision and shared by the base and
 * the overlay layers: each number packed (its first 16 characters, see number-key.ts) for the prefix
 * tables and, when the whole number fits a key, hashed for the exact tables. No allocation.
 */
export class CallKeys {
  ctx!: CallContext;
  /** 1 inbound, 2 outbound: the bit a rule's direction must have. */
  dirBit = 0;
  calledHi = 0;
  calledLo = 0;
  /** The called number has only 0-9 * # (so number patterns may match it). */
  calledPacked = false;
  /** Hash of the whole called number, or -1 when it is not one exact keys can hold. */
  calledHash = -1;
  callingHi = 0;
  callingLo = 0;
  callingPacked = false;
  callingHash = -1;

  // hot path
  prepare(ctx: CallContext): void {
    this.ctx = ctx;
    this.dirBit = ctx.direction === 'inbound' ? 1 : 2;
    const key = this.key;
    const called = ctx.called;
    this.calledPacked = packPrefix(called, key);
    this.calledHi = this.calledPacked ? key[0] : 0;
    this.calledLo = this.calledPacked ? key[1] : 0;
    this.calledHash =
      this.calledPacked && called.length <= MAX_KEY_CHARS ? hashKey(this.calledHi, this.calledLo) : -1;
    const calling = ctx.calling;
    this.callingPacked = packPrefix(calling, key);
    this.callingHi = this.callingPacked ? key[0] : 0;
    this.callingLo = this.callingPacked ? key[1] : 0;
    this.callingHash =
      this.callingPacked && calling.length <= MAX_KEY_CHARS ? hashKey(this.callingHi, this.callingLo) : -1;
  }

  private readonly key = new Uint32Array(2);
}
