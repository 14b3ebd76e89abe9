/** Where a tenant's cached snapshot is: its generation, the change it covers, its chunks and size. */
export interface SnapshotPointer {
  readonly gen: number;
  /** The change-stream id the snapshot covers: replay entries after it. */
  readonly version: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly createdAt: number;
}
