import type { AttemptCounter } from '../call/attempt-counter.js';
import { type CallHandlingSettings, DEFAULT_CALL_HANDLING } from '../call/call-plan.js';
import type { DeciderSource, TenantDecider } from '../call/call-screener.js';
import type { Logger } from '../log.js';
import { BadEntries } from './bad-entries.js';
import { compareVersions } from './change-stream.js';
import { ChangeTailer, type RawEntry, type TailedStream } from './change-tailer.js';
import { TENANT_CHANGES_KEY, TENANT_ID } from './keys.js';
import type { RedisClient } from './redis-client.js';
import type { CompilerConnection } from './snapshot-compiler.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { decodeTenantEntry, tenantChangesVersion } from './tenant-changes.js';
import { handlingOf } from './tenant-params.js';
import { TenantRepository } from './tenant-repository.js';
import { TenantSync, type TenantSyncStatus } from './tenant-sync.js';

export interface SyncRegistryOptions {
  readonly client: RedisClient;
  readonly log: Logger;
  readonly store?: StoreOptions;
  /** Handling for a tenant whose params were never read (failure policy, hangup cause). */
  readonly defaults?: CallHandlingSettings;
  /** Whether nodes rebuild the cached snapshot (default true; turn off on nodes that only serve calls). */
  readonly buildSnapshots?: boolean;
  /** Compile rebuilt snapshots on a worker thread connected here (default: on the event loop). */
  readonly snapshotThread?: CompilerConnection;
  readonly blockMs?: number;
  readonly now?: () => number;
  /** Where outbound attempts are counted for contact policy caps. */
  readonly attempts?: AttemptCounter;
}

/** How long a tenant id that a call named but nobody created stays unasked (then a call asks again). */
const UNKNOWN_TENANT_RETRY_MS = 30_000;
/** Most unknown tenant ids remembered at once (the oldest is forgotten first). */
const MAX_UNKNOWN_TENANTS = 10_000;

/**
 * Every tenant's synced rules on this node; what the PBX apps ask for a decider (DeciderSource).
 * The node knows every tenant: at start it loads those in the set of tenants, then it tails the
 * tenants change stream, so a tenant created on any node is served here at once (from an empty
 * engine with its params: a new tenant has no rules to compile) and a deleted one is dropped. All
 * streams (the tenants stream and each tenant's changes) are read through one ChangeTailer: one
 * blocking connection per node (per master on a Cluster), whatever the number of tenants.
 *
 * A call naming a tenant the node does not know asks Redis once in the background (a tenant written
 * by an older version that does not announce, or a call that beat the announcement by a millisecond):
 * that call gets the failure policy. An id nobody created (a dialplan typo, a variable left unset)
 * starts nothing and is asked about again only after a while.
 */
export class SyncRegistry implements DeciderSource {
  private readonly syncs = new Map<string, TenantSync>();
  private readonly tenants: TenantRepository;
  private readonly tailer: ChangeTailer;
  private readonly probing = new Set<string>();
  /** Unknown tenant id → when a call may ask Redis about it again. */
  private readonly unknown = new Map<string, number>();
  /** Position in the tenants stream; undefined until followed, and while catching up after a gap. */
  private directoryAt: string | undefined;
  private following: Promise<void> | undefined;
  private readonly badEntries: BadEntries;
  private stopped = false;
  private readonly directory: TailedStream = {
    key: TENANT_CHANGES_KEY,
    position: () => this.directoryAt,
    receive: (raw) => this.onTenantChanges(raw),
    contact: () => undefined,
  };

  constructor(private readonly o: SyncRegistryOptions) {
    this.tenants = new TenantRepository(o.client);
    this.badEntries = new BadEntries(o.log);
    this.tailer = new ChangeTailer({ client: o.client, log: o.log, blockMs: o.blockMs });
  }

  /** Starts syncing these tenants (default: every registered tenant) and waits until each loaded or `waitMs` passed. */
  async start(tenants?: readonly string[], waitMs = 30_000): Promise<void> {
    // The position first, then the set: a tenant created in between is on the stream after it.
    await this.follow();
    const ids = tenants ?? (await this.tenants.ids());
    const started = ids.map((t) => this.ensure(t));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, waitMs);
    });
    await Promise.race([Promise.all(started.map((s) => s.ready)), timeout]);
    clearTimeout(timer);
  }

  /** The tenant's sync, started if needed (`created`: a tenant just announced, served empty at once). */
  ensure(tenant: string, created?: { readonly paramsJson: string }): TenantSync {
    let sync = this.syncs.get(tenant);
    // Already loading (a call named it a moment before the announcement): served empty meanwhile.
    if (sync && created) sync.created(created.paramsJson);
    if (!sync) {
      sync = new TenantSync({
        tenant,
        client: this.o.client,
        tailer: this.tailer,
        created,
        log: this.o.log,
        store: this.o.store ?? DEFAULT_STORE_OPTIONS,
        buildSnapshots: this.o.buildSnapshots,
        snapshotThread: this.o.snapshotThread,
        blockMs: this.o.blockMs,
        now: this.o.now,
        attempts: this.o.attempts,
      });
      this.syncs.set(tenant, sync);
      this.unknown.delete(tenant);
      if (!this.stopped) {
        sync.start();
        this.tailer.start();
      }
    }
    return sync;
  }

  /** Blocking Redis connections this node holds for syncing (one per Redis server it reads). */
  connectionCount(): number {
    return this.tailer.connectionCount();
  }

  /** Follows the tenants stream from its current position (once; retried on the next call when Redis was away). */
  private follow(): Promise<void> {
    this.following ??= (async () => {
      this.directoryAt = await tenantChangesVersion(this.o.client);
      this.tailer.add(this.directory);
      this.tailer.start();
    })().catch((error: unknown) => {
      this.following = undefined;
      throw error;
    });
    return this.following;
  }

  private onTenantChanges(raw: RawEntry[]): void {
    for (const e of raw.map(decodeTenantEntry)) {
      if (this.directoryAt === undefined || this.stopped) return;
      if (compareVersions(e.version, this.directoryAt) <= 0) continue;
      const c = e.change;
      if (e.prev !== this.directoryAt || c.kind === 'bad') {
        if (c.kind === 'bad') {
          this.badEntries.report(
            e.version,
            c.reason,
            {},
            'tenants stream entry unreadable; skipped, reloading the tenants',
          );
        } else
          this.o.log.warn(
            { at: this.directoryAt, next: e.version },
            'tenants stream trimmed past this node; reloading the tenants',
          );
        void this.resync();
        return;
      }
      if (c.kind === 'added') this.ensure(c.tenant, { paramsJson: c.paramsJson });
      else this.drop(c.tenant);
      this.directoryAt = e.version;
    }
  }

  /** After a gap or an unreadable entry: the set of tenants is the truth; sync what is in it, drop the rest. */
  private async resync(): Promise<void> {
    this.directoryAt = undefined;
    for (let backoff = 100; !this.stopped; backoff = Math.min(backoff * 2, 5000)) {
      try {
        const position = await tenantChangesVersion(this.o.client);
        const ids = new Set(await this.tenants.ids());
        for (const t of ids) this.ensure(t);
        for (const t of [...this.syncs.keys()]) if (!ids.has(t)) this.drop(t);
        this.directoryAt = position;
        this.tailer.wake(TENANT_CHANGES_KEY);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  /** A deleted tenant: its sync stops; calls naming it get the failure policy again. */
  private drop(tenant: string): void {
    const sync = this.syncs.get(tenant);
    if (!sync) return;
    this.syncs.delete(tenant);
    this.o.log.info({ tenant }, 'tenant deleted; no longer synced');
    void sync.stop();
  }

  get(tenant: string): TenantSync | undefined {
    return this.syncs.get(tenant);
  }

  // hot path
  deciderFor(tenant: string): TenantDecider | undefined {
    const sync = this.syncs.get(tenant);
    if (sync) return sync.decider();
    if (!this.stopped && TENANT_ID.test(tenant)) this.probe(tenant);
    return undefined;
  }

  /** Starts syncing a tenant first named by a call, if it exists; never waits on the call path. */
  private probe(tenant: string): void {
    void this.follow().catch(() => undefined);
    const now = (this.o.now ?? Date.now)();
    if (this.probing.has(tenant) || (this.unknown.get(tenant) ?? 0) > now) return;
    this.probing.add(tenant);
    this.tenants
      .get(tenant)
      .then((found) => {
        if (this.stopped) return;
        if (found) {
          this.unknown.delete(tenant);
          this.ensure(tenant);
          return;
        }
        if (!this.unknown.has(tenant)) {
          this.o.log.warn(
            { tenant },
            'a call names a tenant that does not exist; its calls get the failure policy',
          );
        }
        this.unknown.delete(tenant);
        if (this.unknown.size >= MAX_UNKNOWN_TENANTS) this.unknown.delete(this.unknown.keys().next().value!);
        this.unknown.set(tenant, now + UNKNOWN_TENANT_RETRY_MS);
      })
      // Redis unreachable: the next call for this tenant asks again.
      .catch(() => undefined)
      .finally(() => this.probing.delete(tenant));
  }

  fallbackHandling(tenant: string): CallHandlingSettings {
    const params = this.syncs.get(tenant)?.params();
    return params ? handlingOf(params) : (this.o.defaults ?? DEFAULT_CALL_HANDLING);
  }

  status(): TenantSyncStatus[] {
    return [...this.syncs.values()].map((s) => s.status());
  }

  /** The largest staleness over all tenants, for the `staleness_seconds` gauge. */
  stalenessSeconds(): number {
    let worst = 0;
    for (const s of this.syncs.values()) worst = Math.max(worst, s.stalenessSeconds());
    return worst;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.syncs.values()].map((s) => s.stop()));
    await this.tailer.stop();
  }
}
