/** Settings shared by the repositories and the sync (from config: CALLGUARD_STREAM_MAXLEN, CALLGUARD_SNAPSHOT_EVERY). */
export interface StoreOptions {
  /** Approximate cap of each tenant's change stream (XADD MAXLEN ~). */
  readonly streamMaxLen: number;
  /** Changes after the cached snapshot that trigger a rebuild. */
  readonly snapshotEvery: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = Object.freeze({
  streamMaxLen: 100_000,
  snapshotEvery: 10_000,
});

/** updatedAt and expiry are stored at whole seconds. */
export const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
