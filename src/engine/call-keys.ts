import type { CallContext } from '../domain/call-context.js';
import { hashKey, MAX_KEY_CHARS, packPrefix } from './number-key.js';

/** Where a side's words start in CallKeys.words: packed key hi, lo, then the hash of the whole number. */
export const CALLED = 0;
export const CALLING = 3;
export const W_HI = 0;
export const W_LO = 1;
export const W_HASH = 2;

/**
 * A call's numbers as the index reads them, computed once per decision and shared by the base and
 * the overlay layers: each number packed (its first 16 characters, see number-key.ts) for the prefix
 * tables and, when the whole number fits a key, hashed for the exact tables.
 *
 * The 32-bit words live in a typed array, not in fields or arguments: a uint32 above 2^30 in a field
 * or passed to a call that is not inlined is a heap number, an allocation per decision.
 */
export class CallKeys {
  ctx!: CallContext;
  /** 1 inbound, 2 outbound: the bit a rule's direction must have. */
  dirBit = 0;
  readonly words = new Uint32Array(6);
  /** The called number has only 0-9 * # (so number patterns may match it). */
  calledPacked = false;
  /** The whole called number is a key (packed and at most 16 characters): exact tables apply. */
  calledKeyed = false;
  callingPacked = false;
  callingKeyed = false;

  // hot path
  prepare(ctx: CallContext): void {
    this.ctx = ctx;
    this.dirBit = ctx.direction === 'inbound' ? 1 : 2;
    const w = this.words;
    const called = ctx.called;
    this.calledPacked = packPrefix(called, w, CALLED);
    this.calledKeyed = this.calledPacked && called.length <= MAX_KEY_CHARS;
    if (this.calledKeyed) w[CALLED + W_HASH] = hashKey(w[CALLED + W_HI], w[CALLED + W_LO]);
    const calling = ctx.calling;
    this.callingPacked = packPrefix(calling, w, CALLING);
    this.callingKeyed = this.callingPacked && calling.length <= MAX_KEY_CHARS;
    if (this.callingKeyed) w[CALLING + W_HASH] = hashKey(w[CALLING + W_HI], w[CALLING + W_LO]);
  }
}
