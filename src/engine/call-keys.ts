import type { CallContext } from '../domain/call-context.js';
import { hashKey, packAny, packHead, packTail } from './number-key.js';

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
 *
 * A number is read in two steps. prepare() packs the first eight characters of each number (the head,
 * word [0]): enough for the prefix tables' stem test, which turns most numbers away. The rest of it
 * (word [1], whether it is all 0-9 * #, the hash) is read by completeCalled() / completeCalling(),
 * only when an exact table or a prefix probe needs the whole number: the side a call's direction does
 * not screen is usually never read past its head. Until its side is complete, word [1] is stale;
 * nothing reads it before then (a stem of up to eight characters masks it out). The flags are tested
 * with `=== true` / `=== false` on the hot path (RuleIndex.collect says why).
 *
 * The call's context is not kept here; the completers are given the number. This object lives as
 * long as its engine, and storing a fresh context into it ran the write barrier's slow path on every
 * decision (docs/DECISIONS.md, sixth pass).
 */
export class CallKeys {
  /** 1 inbound, 2 outbound: the bit a rule's direction must have. */
  dirBit = 0;
  readonly called = new Uint32Array(3);
  readonly calling = new Uint32Array(3);
  /**
   * The called number has only 0-9 * # (so number patterns may match it); until the side is complete,
   * only its head is known to.
   */
  calledPacked = false;
  /** The whole called number has been read: calledPacked and calledKeyed are final. */
  private calledComplete = false;
  /**
   * The whole called number is a key (packed and at most 16 characters): exact tables apply. Stale
   * until the side is complete, so it is read only through completeCalled().
   */
  private calledKeyed = false;
  callingPacked = false;
  private callingComplete = false;
  private callingKeyed = false;
  calledLength = 0;
  callingLength = 0;

  // hot path
  prepare(ctx: CallContext): void {
    this.dirBit = ctx.direction === 'inbound' ? 1 : 2;
    const called = ctx.called;
    const calledLength = called.length;
    this.calledLength = calledLength;
    // 8-16 characters (8 = HEAD_CHARS): the usual number, whose head packHead reads; anything else
    // is read whole now.
    if (calledLength >= 8 && calledLength <= 16 && packHead(called, this.called, 0)) {
      this.calledPacked = true;
      this.calledComplete = false;
    } else {
      this.calledPacked = packAny(called, this.called, 0);
      this.calledComplete = true;
      this.calledKeyed = this.keyed(this.calledPacked, calledLength, this.called);
    }
    const calling = ctx.calling;
    const callingLength = calling.length;
    this.callingLength = callingLength;
    if (callingLength >= 8 && callingLength <= 16 && packHead(calling, this.calling, 0)) {
      this.callingPacked = true;
      this.callingComplete = false;
    } else {
      this.callingPacked = packAny(calling, this.calling, 0);
      this.callingComplete = true;
      this.callingKeyed = this.keyed(this.callingPacked, callingLength, this.calling);
    }
  }

  /**
   * Reads the rest of the called number (once; `called` is the number prepare() was given); whether
   * the whole number is a key.
   */
  // hot path
  completeCalled(called: string): boolean {
    if (this.calledComplete === false) {
      this.calledComplete = true;
      // A tail with * or # (or a character no pattern has) is read again by the general path.
      if (packTail(called, this.called, 0) === false) this.calledPacked = packAny(called, this.called, 0);
      this.calledKeyed = this.keyed(this.calledPacked, this.calledLength, this.called);
    }
    return this.calledKeyed;
  }

  /**
   * Reads the rest of the calling number (once; `calling` is the number prepare() was given); whether
   * the whole number is a key.
   */
  // hot path
  completeCalling(calling: string): boolean {
    if (this.callingComplete === false) {
      this.callingComplete = true;
      if (packTail(calling, this.calling, 0) === false)
        this.callingPacked = packAny(calling, this.calling, 0);
      this.callingKeyed = this.keyed(this.callingPacked, this.callingLength, this.calling);
    }
    return this.callingKeyed;
  }

  /** Whether a complete side is a key, hashing it when it is. */
  private keyed(packed: boolean, length: number, key: Uint32Array): boolean {
    // 16 = MAX_KEY_CHARS, the characters a key holds.
    if (!packed || length > 16) return false;
    key[2] = hashKey(key[0], key[1]);
    return true;
  }
}
