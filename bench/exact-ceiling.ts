import { hashKey, packNumber } from '../src/engine/number-key.js';

/**
 * The ceiling of the engine benchmark: exact numbers only, in the plainest fast structure a typed
 * array allows. Open addressing with linear probing over 3 x u32 slots (packed number hi/lo and a
 * rule id; hi 0 = empty slot, which no packed number is), at most 60% full. It answers "is this exact
 * number listed" and nothing else: no direction, expiry, group, prefix or precedence.
 */
export class ExactCeiling {
  private readonly slots: Uint32Array;
  private readonly mask: number;
  private readonly key = new Uint32Array(2);

  constructor(capacityHint: number) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(2, capacityHint / 0.6)));
    this.slots = new Uint32Array(size * 3);
    this.mask = size - 1;
  }

  add(number: string, id: number): void {
    if (!packNumber(number, this.key)) throw new Error(`not a keyable number: ${number}`);
    const [hi, lo] = this.key;
    for (let i = hashKey(hi, lo) & this.mask; ; i = (i + 1) & this.mask) {
      const o = i * 3;
      if (this.slots[o] === 0 || (this.slots[o] === hi && this.slots[o + 1] === lo)) {
        this.slots[o] = hi;
        this.slots[o + 1] = lo;
        this.slots[o + 2] = id;
        return;
      }
    }
  }

  /** The rule id of the number, 0 when it is not listed. */
  // hot path
  get(number: string): number {
    if (!packNumber(number, this.key)) return 0;
    const hi = this.key[0];
    const lo = this.key[1];
    const slots = this.slots;
    for (let i = hashKey(hi, lo) & this.mask; ; i = (i + 1) & this.mask) {
      const o = i * 3;
      const h = slots[o];
      if (h === 0) return 0;
      if (h === hi && slots[o + 1] === lo) return slots[o + 2];
    }
  }
}
