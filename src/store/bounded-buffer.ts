/**
 * A FIFO with a hard cap: pushing into a full buffer drops the oldest entry and counts it. Used to
 * hold events and audit records while Redis is away; memory stays bounded whatever the outage.
 */
export class BoundedBuffer<T> {
  private items: T[] = [];
  private head = 0;
  dropped = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Returns false when an older entry was dropped to make room. */
  push(item: T): boolean {
    let kept = true;
    if (this.size >= this.capacity) {
      this.head++;
      this.dropped++;
      kept = false;
    }
    this.items.push(item);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return kept;
  }

  /** The oldest `n` entries, not removed. */
  peek(n: number): T[] {
    return this.items.slice(this.head, this.head + n);
  }

  /** Removes the oldest `n` entries (after they were written). */
  shift(n: number): void {
    this.head = Math.min(this.items.length, this.head + n);
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
  }

  /** Takes everything out. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }

  /** Puts entries back in front (a failed write), dropping the oldest of them beyond the cap. */
  unshift(entries: readonly T[]): void {
    const room = this.capacity - this.size;
    const keep = room >= entries.length ? entries : entries.slice(entries.length - Math.max(0, room));
    this.dropped += entries.length - keep.length;
    this.items = [...keep, ...this.items.slice(this.head)];
    this.head = 0;
  }
}
