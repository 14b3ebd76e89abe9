import type { SnapshotHandover } from './snapshot-handover.js';

/** Where a tenant's cached snapshot is: its generation, the change it covers, its chunks and size. */
export interface SnapshotPointer {
  readonly gen: number;
  /** The change-stream id the snapshot covers: replay entries after it. */
  readonly version: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly createdAt: number;
}

/** A snapshot as read: its bytes, and what the reader thread made of them when a thread read them. */
export interface SnapshotRead {
  readonly bytes: Buffer;
  readonly pointer: SnapshotPointer;
  /** The header parsed and checked on the reader thread (see adoptSnapshot in snapshot-handover.ts). */
  readonly handover?: SnapshotHandover;
}
