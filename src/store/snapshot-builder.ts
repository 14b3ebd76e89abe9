import { decodeSnapshot } from '../engine/snapshot-codec.js';
import type { Logger } from '../log.js';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';
import { type CompilerConnection, compileSnapshot, compileSnapshotInThread } from './snapshot-compiler.js';
import { SnapshotStore } from './snapshot-store.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { loadTenantState, type TenantState } from './tenant-state-loader.js';

/**
 * Rebuilds a tenant's cached snapshot from the rules, under a lock so that one node does it at a
 * time, then announces it with an `sn` change so nodes with a large delta overlay can swap to it.
 */
export class SnapshotBuilder {
  private readonly snapshots: SnapshotStore;

  constructor(
    private readonly client: RedisClient,
    private readonly log: Logger,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
    /** Compile on a worker thread with its own connection (see snapshot-compiler.ts); else here. */
    private readonly thread?: CompilerConnection,
  ) {
    this.snapshots = new SnapshotStore(client);
  }

  /** Builds and stores a snapshot unless another node holds the lock; returns the state built, if any. */
  async build(tenant: string, lockMs = 300_000): Promise<TenantState | undefined> {
    const k = tenantKeys(tenant);
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    if ((await this.client.set(k.snapshotLock, token, 'PX', lockMs, 'NX')) !== 'OK') return undefined;
    try {
      const started = Date.now();
      // A tenant with no rule and no change ever (just created, or never created): decide from the
      // empty engine built here, store nothing; no thread to compile nothing.
      if ((await this.client.exists(k.ruleSeq, k.changes)) === 0) {
        return loadTenantState(this.client, tenant);
      }
      const compiled = this.thread
        ? await compileSnapshotInThread(this.thread, tenant)
        : await compileSnapshot(this.client, tenant);
      const { bytes, version } = compiled;
      // From a thread only the bytes came: decoding them is views over the buffer, not a compile, and
      // no checks (our own encoder just made them: a checksum over them would hold the loop ~1 s at 10M).
      const state = compiled.state ?? {
        engine: decodeSnapshot(bytes, { verified: true }).engine.withDefaultAction(
          compiled.params.defaultAction,
        ),
        version,
        params: compiled.params,
      };
      const flipped = await this.snapshots.write(tenant, bytes, state.version);
      if (flipped) {
        await runScript(
          this.client,
          'append-change-2',
          [k.changes, k.version],
          [this.options.streamMaxLen, 'op', 'sn', 'version', state.version],
        );
      }
      this.log.info(
        {
          tenant,
          version: state.version,
          rules: state.engine.baseRuleCount,
          bytes: bytes.length,
          ms: Date.now() - started,
          thread: this.thread !== undefined,
        },
        flipped ? 'rule snapshot rebuilt' : 'rule snapshot already current',
      );
      return state;
    } finally {
      // Release only our own lock.
      if ((await this.client.get(k.snapshotLock)) === token) await this.client.del(k.snapshotLock);
    }
  }
}
