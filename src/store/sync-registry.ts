import type { Logger } from '../log.js';
import { type CallHandlingSettings, DEFAULT_CALL_HANDLING } from '../pbx/call-plan.js';
import type { DeciderSource, TenantDecider } from '../pbx/call-screener.js';
import { TENANT_ID } from './keys.js';
import { duplicateClient, type RedisClient } from './redis-client.js';
import type { CompilerConnection } from './snapshot-compiler.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
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
}

/** How long a tenant id that a call named but nobody created stays unasked (then a call asks again). */
const UNKNOWN_TENANT_RETRY_MS = 30_000;
/** Most unknown tenant ids remembered at once (the oldest is forgotten first). */
const MAX_UNKNOWN_TENANTS = 10_000;

/**
 * Every tenant's synced rules on this node; what the PBX apps ask for a decider (DeciderSource).
 * A tenant seen for the first time on a call starts syncing in the background once Redis confirms
 * it exists: that call gets the failure policy, the next ones the tenant's rules. An id nobody
 * created (a dialplan typo, a variable left unset) starts nothing: each sync holds a connection, so
 * such ids must not be able to pile them up.
 */
export class SyncRegistry implements DeciderSource {
  private readonly syncs = new Map<string, TenantSync>();
  private readonly tenants: TenantRepository;
  private readonly probing = new Set<string>();
  /** Unknown tenant id → when a call may ask Redis about it again. */
  private readonly unknown = new Map<string, number>();
  private stopped = false;

  constructor(private readonly o: SyncRegistryOptions) {
    this.tenants = new TenantRepository(o.client);
  }

  /** Starts syncing these tenants (default: every registered tenant) and waits until each loaded or `waitMs` passed. */
  async start(tenants?: readonly string[], waitMs = 30_000): Promise<void> {
    const ids = tenants ?? (await this.tenants.ids());
    const started = ids.map((t) => this.ensure(t));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, waitMs);
    });
    await Promise.race([Promise.all(started.map((s) => s.ready)), timeout]);
    clearTimeout(timer);
  }

  /** The tenant's sync, started if needed. */
  ensure(tenant: string): TenantSync {
    let sync = this.syncs.get(tenant);
    if (!sync) {
      sync = new TenantSync({
        tenant,
        client: this.o.client,
        blocking: duplicateClient(this.o.client),
        log: this.o.log,
        store: this.o.store ?? DEFAULT_STORE_OPTIONS,
        buildSnapshots: this.o.buildSnapshots,
        snapshotThread: this.o.snapshotThread,
        blockMs: this.o.blockMs,
        now: this.o.now,
      });
      this.syncs.set(tenant, sync);
      if (!this.stopped) sync.start();
    }
    return sync;
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
  }
}
