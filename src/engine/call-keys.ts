import type { CallContext } from '../domain/call-context.js';
import { hashKey, packPrefix } from './number-key.js';

/**
 * A call's numbers as the index reads them, computed once per decision and shared by the base and
 * the overlay layers: each number packed (its first 16 characters, see number-key.ts) for the prefix
 * tables and, when the whole number fits a key, hashed for the exact tables.
 *
 * A side's key is a Uint32Array of three words: [0] packed hi, [1] packed lo, [2] the hash of the
 * whole number. The words live in a typed array, not in fields or arguments: a uint32 above 2^30 in
 * a field or passed to a call that is not inlined is a heap number, an allocation per decision. The
 * hot paths index the words with literals: an imported constant costs a cell load and a check at
 * every use in optimised code (measured, docs/DECISIONS.md).
 */
export class CallKeys {
  ctx!: CallContext;
  /** 1 inbound, 2 outbound: the bit a rule's direction must have. */
  dirBit = 0;
  readonly called = new Uint32Array(3);
  readonly calling = new Uint32Array(3);
  /** The called number has only 0-9 * # (so number patterns may match it). */
  calledPacked = false;
  /** The whole called number is a key (packed and at most 16 characters): exact tables apply. */
  calledKeyed = false;
  callingPacked = false;
  callingKeyed = false;
  calledLength = 0;
  callingLength = 0;

  // hot path
  prepare(ctx: CallContext): void {
    this.ctx = ctx;
    this.dirBit = ctx.direction === 'inbound' ? 1 : 2;
    const called = ctx.called;
    const calledKey = this.called;
    const calledLength = called.length;
    this.calledLength = calledLength;
    this.calledPacked = packPrefix(called, calledKey, 0);
    // 16 = MAX_KEY_CHARS, the characters a key holds.
    this.calledKeyed = this.calledPacked && calledLength <= 16;
    if (this.calledKeyed) calledKey[2] = hashKey(calledKey[0], calledKey[1]);
    const calling = ctx.calling;
    const callingKey = this.calling;
    const callingLength = calling.length;
    this.callingLength = callingLength;
    this.callingPacked = packPrefix(calling, callingKey, 0);
    this.callingKeyed = this.callingPacked && callingLength <= 16;
    if (this.callingKeyed) callingKey[2] = hashKey(callingKey[0], callingKey[1]);
  }
}
