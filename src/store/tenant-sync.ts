import { backoffMs } from '../backoff.js';
import type { AttemptCounter } from '../call/attempt-counter.js';
import type { TenantDecider } from '../call/call-screener.js';
import { withPolicies } from '../call/policy-decider.js';
import { TaskPolicies } from '../call/task-policies.js';
import type { BlocklistType } from '../domain/blocklist-type.js';
import type { Rule } from '../domain/rule.js';
import { DecisionEngine } from '../engine/decision-engine.js';
import type { Logger } from '../log.js';
import { BadEntries } from './bad-entries.js';
import {
  type ChangeEntry,
  ChangeStream,
  compareVersions,
  decodeEntry,
  ZERO_VERSION,
} from './change-stream.js';
import { ChangeTailer, type RawEntry, type TailedStream } from './change-tailer.js';
import { ContactPolicyRepository } from './contact-policy-repository.js';
import { tenantKeys } from './keys.js';
import { duplicateClient, type RedisClient } from './redis-client.js';
import { SnapshotBuilder } from './snapshot-builder.js';
import type { CompilerConnection } from './snapshot-compiler.js';
import { adoptSnapshot, packedStringsOf } from './snapshot-handover.js';
import { SnapshotStore } from './snapshot-store.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { handlingOf, policyOf, readParams, type TenantParams } from './tenant-params.js';
import { TenantRepository } from './tenant-repository.js';
import { loadTenantState, type TenantState } from './tenant-state-loader.js';

export interface TenantSyncOptions {
  readonly tenant: string;
  /** For reads (snapshot, rules, params). */
  readonly client: RedisClient;
  /** The node's reader of change streams (one blocking connection for all tenants). */
  readonly tailer?: ChangeTailer;
  /** Without a tailer: a connection of its own for XREAD BLOCK (it holds the connection while it waits). */
  readonly blocking?: RedisClient;
  /**
   * A tenant just created (the node heard of it on the tenants stream): it has no rules yet, so the
   * node answers from an empty engine with these params at once, and tails its stream from the start.
   */
  readonly created?: { readonly paramsJson: string };
  readonly log: Logger;
  readonly store?: StoreOptions;
  /** Whether this node rebuilds the cached snapshot when the stream has grown (default true). */
  readonly buildSnapshots?: boolean;
  /** Compile rebuilt snapshots on a worker thread connected here (default: on the event loop). */
  readonly snapshotThread?: CompilerConnection;
  /** Longest wait of one XREAD; also how often a quiet node confirms it is current. */
  readonly blockMs?: number;
  readonly now?: () => number;
  /** Where outbound attempts are counted for contact policy caps (none: caps see no attempts). */
  readonly attempts?: AttemptCounter;
}

export interface TenantSyncStatus {
  readonly tenant: string;
  readonly loaded: boolean;
  readonly version: string;
  readonly rules: number;
  readonly overlay: number;
  readonly connected: boolean;
  /** Seconds since this node last confirmed it had every change (0 while connected). */
  readonly stalenessSeconds: number;
  readonly reloads: number;
}

interface Live extends TenantState {
  readonly decider: TenantDecider;
  /** Changes applied since the snapshot or scan the engine's base came from. */
  readonly sinceBase: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Engines never change in place: every new tenant starts from this one (no index built per tenant). */
const EMPTY_ENGINE = DecisionEngine.fromRules([]);

/**
 * One tenant's rules on a call node: loaded from the cached snapshot (or built from the rules), then
 * kept current by tailing the change stream. Every change builds a new engine aside and swaps one
 * reference, so decide() never waits and never sees half a change. Redis down: the last engine keeps
 * answering, the tail reconnects with backoff and the staleness grows.
 */
export class TenantSync implements TailedStream {
  private live: Live | undefined;
  private stopped = false;
  private loading: Promise<void> | undefined;
  private started = false;
  private readonly badEntries: BadEntries;
  private firstLoadPending = false;
  private readonly tailer: ChangeTailer;
  /** Without a node's tailer: the connection this tenant reads its stream through alone. */
  private readonly ownConnection: RedisClient | undefined;
  private connected = false;
  private lastContact = 0;
  private reloadFrom: string | undefined;
  private reloads = 0;
  private building = false;
  private lastRebuild = 0;
  private types = new Map<string, BlocklistType>();
  /** Contact policies and their task bindings: outside the engine, applied on top of its decisions. */
  private policies = TaskPolicies.EMPTY;
  private readonly waiters = new Set<() => void>();
  private readonly snapshots: SnapshotStore;
  private readonly changes: ChangeStream;
  private readonly store: StoreOptions;
  private readonly now: () => number;
  private readyResolve!: () => void;
  /** Resolves once an engine is loaded (it may never, while Redis is unreachable). */
  readonly ready: Promise<void> = new Promise((r) => {
    this.readyResolve = r;
  });

  constructor(private readonly o: TenantSyncOptions) {
    this.snapshots = new SnapshotStore(o.client);
    this.changes = new ChangeStream(o.client);
    this.store = o.store ?? DEFAULT_STORE_OPTIONS;
    this.now = o.now ?? Date.now;
    this.badEntries = new BadEntries(o.log);
    this.ownConnection = o.tailer ? undefined : (o.blocking ?? duplicateClient(o.client));
    this.tailer =
      o.tailer ??
      new ChangeTailer({ client: o.client, connection: this.ownConnection, log: o.log, blockMs: o.blockMs });
  }

  get tenant(): string {
    return this.o.tenant;
  }

  get key(): string {
    return tenantKeys(this.o.tenant).changes;
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    if (this.o.created) this.startEmpty(this.o.created.paramsJson);
    this.tailer.add(this);
    if (this.ownConnection) this.tailer.start();
    this.ensureLoaded();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tailer.remove(this);
    if (this.ownConnection) {
      this.ownConnection.disconnect();
      await this.tailer.stop();
    }
    // A load may be waiting on a Redis that is away (its commands queue until they give up): stopping
    // must not wait for that.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loading, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    for (const w of this.waiters) w();
  }

  /** Where the tailer reads this tenant's stream from; undefined while loading. */
  position(): string | undefined {
    if (this.stopped || !this.live || this.reloadFrom !== undefined || this.loading) return undefined;
    return this.live.version;
  }

  contact(connected: boolean): void {
    if (connected && !this.connected && this.ownConnection) {
      this.o.log.info({ tenant: this.o.tenant }, 'rule sync connected to Redis');
    }
    this.connected = connected;
    if (connected || this.lastContact === 0) this.lastContact = this.now();
  }

  receive(raw: RawEntry[]): void {
    const live = this.live;
    if (!live || this.reloadFrom !== undefined || this.loading) return;
    // A read that waited across a reload may bring entries the reload already covers.
    const fresh = raw.filter(([id]) => compareVersions(id, live.version) > 0);
    if (fresh.length > 0) this.apply(fresh.map(decodeEntry));
    if (this.reloadFrom !== undefined) this.ensureLoaded();
  }

  /**
   * The tenant was just created (announced on the tenants stream): until a load finishes, serve it
   * from an empty engine. A call that named it a moment before the announcement started a load.
   */
  created(paramsJson: string): void {
    if (this.live || this.stopped) return;
    this.startEmpty(paramsJson);
    // The load under way completes the first load, not a reload.
    this.firstLoadPending = this.loading !== undefined;
  }

  /** A new tenant: an empty engine at version 0-0, no Redis read, no compile. */
  private startEmpty(paramsJson: string): void {
    const params = readParams(paramsJson);
    const engine = EMPTY_ENGINE.withDefaultAction(params.defaultAction);
    this.lastContact = this.now();
    this.swap(this.toLive({ engine, params, version: ZERO_VERSION }, 0));
  }

  /** Loads (or reloads) in the background until it succeeds; the tailer then reads from the new position. */
  private ensureLoaded(): void {
    if (this.loading || this.stopped || (this.live && this.reloadFrom === undefined)) return;
    this.loading = (async () => {
      let failures = 0;
      while (!this.stopped && (!this.live || this.reloadFrom !== undefined)) {
        try {
          await this.load(this.reloadFrom ?? ZERO_VERSION);
        } catch (error) {
          if (this.stopped) break;
          if (this.connected || this.lastContact === 0) {
            this.o.log.warn(
              { tenant: this.o.tenant, err: (error as Error).message, loaded: this.live !== undefined },
              'rule sync lost Redis; serving the last loaded rules and retrying',
            );
          }
          this.connected = false;
          if (this.lastContact === 0) this.lastContact = this.now();
          await sleep(backoffMs(++failures, { firstMs: 100, maxMs: 5000 }));
        }
      }
    })().finally(() => {
      this.loading = undefined;
      this.tailer.wake(this.key);
    });
  }

  /** The current decider; undefined until the first load. Never waits. */
  decider(): TenantDecider | undefined {
    return this.live?.decider;
  }

  engine(): DecisionEngine | undefined {
    return this.live?.engine;
  }

  params(): TenantParams | undefined {
    return this.live?.params;
  }

  get version(): string {
    return this.live?.version ?? ZERO_VERSION;
  }

  status(): TenantSyncStatus {
    const live = this.live;
    return {
      tenant: this.o.tenant,
      loaded: live !== undefined,
      version: live?.version ?? ZERO_VERSION,
      // Exact with no overlay; with one, masked ids of rules new since the base make it an estimate
      // (the engine does not expose how many masked ids are in its base).
      rules: live
        ? Math.max(0, live.engine.baseRuleCount - live.engine.maskedCount + live.engine.overlaySize)
        : 0,
      overlay: live?.engine.overlaySize ?? 0,
      connected: this.connected,
      stalenessSeconds: this.stalenessSeconds(),
      reloads: this.reloads,
    };
  }

  stalenessSeconds(): number {
    if (this.lastContact === 0) return Number.POSITIVE_INFINITY;
    const since = this.now() - this.lastContact;
    // Connected and tailing: a quiet stream answers every blockMs. A read that hangs far longer
    // (a black-holed connection never errors) counts as blind time too.
    if (this.connected && this.live && since <= (this.o.blockMs ?? 2000) + 3000) return 0;
    return Math.max(0, since / 1000);
  }

  /** Resolves true once the node reflects `version` (a change id a writer got back), false on timeout. */
  async waitFor(version: string, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.live || compareVersions(this.live.version, version) < 0) {
      const left = deadline - Date.now();
      if (left <= 0 || this.stopped) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 1000));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return true;
  }

  private swap(live: Live): void {
    this.live = live;
    this.types = new Map([...live.engine.types()].map((t) => [t.id, t]));
    this.readyResolve();
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w();
    }
  }

  private deciderOf(engine: DecisionEngine, params: TenantParams): TenantDecider {
    const rules: TenantDecider = {
      policy: policyOf(params),
      handling: handlingOf(params),
      decide: (ctx) => engine.decide(ctx),
    };
    return withPolicies(rules, {
      tenant: this.o.tenant,
      policies: this.policies,
      counter: this.o.attempts,
      typeOf: (id) => this.types.get(id),
    });
  }

  private toLive(state: TenantState, sinceBase: number): Live {
    return { ...state, sinceBase, decider: this.deciderOf(state.engine, state.params) };
  }

  private snapshotBuilder(): SnapshotBuilder {
    return new SnapshotBuilder(this.o.client, this.o.log, this.store, this.o.snapshotThread);
  }

  /** Loads an engine reflecting at least `min`: the cached snapshot when it is new enough, else the rules. */
  private async load(min: string): Promise<void> {
    const wanted = min;
    let state: TenantState | undefined;
    let fromSnapshot = false;
    let adoption: Record<string, number> = {};
    const deadline = Date.now() + (compareVersions(wanted, ZERO_VERSION) > 0 ? 30_000 : 0);
    for (;;) {
      // The strings of the index in use: the new one takes those it shares instead of copies.
      const held = this.live?.engine.base.parts.strings;
      const snap = await this.snapshots.read(this.o.tenant, wanted, packedStringsOf(held));
      if (snap && compareVersions(snap.pointer.version, wanted) >= 0) {
        try {
          const { decoded, ...timing } = await adoptSnapshot(snap, held);
          adoption = timing;
          const params = await new TenantRepository(this.o.client).params(this.o.tenant);
          state = {
            engine: decoded.engine.withDefaultAction(params.defaultAction),
            version: decoded.version,
            params,
          };
          fromSnapshot = true;
        } catch (error) {
          this.o.log.error(
            { tenant: this.o.tenant, err: (error as Error).message },
            'cached rule snapshot unreadable',
          );
        }
        break;
      }
      // A reload after a bulk write: one node rebuilds the snapshot, the others wait for it a while.
      if (this.o.buildSnapshots !== false && !this.building) {
        this.building = true;
        try {
          state = await this.snapshotBuilder().build(this.o.tenant);
        } finally {
          this.building = false;
        }
        if (state) break;
      }
      // The rules themselves are only safe to read when nobody holds the snapshot lock: a bulk import
      // holds it while its rules are half written (an overwrite-all shows old and new together).
      if (Date.now() >= deadline && !(await this.snapshotLocked())) break;
      if (this.stopped) return;
      await sleep(250);
    }
    state ??= await loadTenantState(this.o.client, this.o.tenant);
    // Read after the rules: at least as new as them; changes after the snapshot re-apply on top.
    this.policies = await new ContactPolicyRepository(this.o.client).load(this.o.tenant);
    this.reloadFrom = undefined;
    this.connected = true;
    this.lastContact = this.now();
    if (this.live && !this.firstLoadPending) this.reloads++;
    this.firstLoadPending = false;
    this.swap(this.toLive(state, 0));
    this.o.log.info(
      {
        tenant: this.o.tenant,
        version: state.version,
        rules: state.engine.baseRuleCount,
        fromSnapshot,
        ...adoption,
      },
      'rules loaded',
    );
  }

  private async snapshotLocked(): Promise<boolean> {
    return (await this.o.client.exists(tenantKeys(this.o.tenant).snapshotLock)) === 1;
  }

  /** Applies stream entries in order; stops at a gap or a reload, which the loop then handles. */
  private apply(entries: readonly ChangeEntry[]): void {
    const live = this.live!;
    let { engine, params, version } = live;
    let applied = 0;
    const upserts = new Map<number, Rule>();
    const deletes = new Set<number>();
    let typesChanged = false;
    let snapshotAnnounced = false;
    for (const e of entries) {
      if (e.prev !== version) {
        // Entries between our position and this one were trimmed away: start again from the snapshot.
        this.o.log.warn(
          { tenant: this.o.tenant, at: version, next: e.version },
          'change stream trimmed past this node; reloading',
        );
        this.reloadFrom = e.prev;
        break;
      }
      const c = e.change;
      if (c.kind === 'reload') {
        this.reloadFrom = e.version;
        break;
      }
      if (c.kind === 'bad') {
        this.badEntries.report(
          e.version,
          c.reason,
          { tenant: this.o.tenant },
          'change entry unreadable; skipped, reloading the rules',
        );
        this.reloadFrom = e.version;
        break;
      }
      if (c.kind === 'upsert' || c.kind === 'delete') {
        collectRuleChange(c, upserts, deletes);
      } else if (c.kind === 'bind') {
        engine = engine.withBinding(c.task, c.groups);
      } else if (c.kind === 'type') {
        if (c.type) this.types.set(c.id, c.type);
        else this.types.delete(c.id);
        typesChanged = true;
      } else if (c.kind === 'policy') {
        this.policies = this.policies.withPolicy(c.id, c.policy);
      } else if (c.kind === 'taskPolicies') {
        this.policies = this.policies.withBinding(c.task, c.policies);
      } else if (c.kind === 'params') {
        // A field this version cannot read keeps the value the node had, not the default.
        params = readParams(c.json, params);
        engine = engine.withDefaultAction(params.defaultAction);
      } else if (c.kind === 'snapshot') {
        snapshotAnnounced = true;
      }
      version = e.version;
      applied++;
    }
    if (applied === 0) return;
    if (upserts.size > 0 || deletes.size > 0) {
      engine = engine.withChanges({ upserts: [...upserts.values()], deletes: [...deletes] });
    }
    if (typesChanged) engine = engine.withTypes(this.types.values());
    const sinceBase = snapshotAnnounced ? 0 : live.sinceBase + applied;
    this.swap({ engine, params, version, sinceBase, decider: this.deciderOf(engine, params) });
    if (snapshotAnnounced && engine.overlaySize > 0) void this.compact();
    else if (sinceBase >= this.store.snapshotEvery && this.o.buildSnapshots !== false) void this.rebuild();
  }

  /** Swaps to the newest cached snapshot plus the changes after it: a small overlay again, no rebuild here. */
  private async compact(): Promise<void> {
    if (this.building) return;
    this.building = true;
    try {
      const held = this.live?.engine.base.parts.strings;
      const snap = await this.snapshots.read(this.o.tenant, undefined, packedStringsOf(held));
      if (!snap || !this.live || compareVersions(snap.pointer.version, this.live.version) > 0) return;
      let engine = (await adoptSnapshot(snap, held)).decoded.engine;
      let version = snap.pointer.version;
      const upserts = new Map<number, Rule>();
      const deletes = new Set<number>();
      // Replay up to the node's own position; changes keep arriving meanwhile, so chase it (bounded).
      for (let round = 0; round < 50 && this.live && version !== this.live.version; round++) {
        const entries = await this.changes.after(this.o.tenant, version, 5000);
        if (entries.length === 0 || entries[0]!.prev !== version) return;
        for (const e of entries) {
          if (!this.live || compareVersions(e.version, this.live.version) > 0) break;
          const c = e.change;
          if (c.kind === 'upsert' || c.kind === 'delete') collectRuleChange(c, upserts, deletes);
          else if (c.kind === 'reload') return;
          version = e.version;
        }
      }
      // No await from here to the swap: the node's engine cannot move in between.
      const live = this.live;
      if (!live || live.version !== version) return;
      engine = engine.withChanges({ upserts: [...upserts.values()], deletes: [...deletes] });
      engine = engine.withTypes(this.types.values()).withDefaultAction(live.params.defaultAction);
      const current = new Map(live.engine.bindings());
      for (const [task] of [...engine.bindings()])
        if (!current.has(task)) engine = engine.withBinding(task, []);
      for (const [task, groups] of current) engine = engine.withBinding(task, groups);
      this.swap({
        ...live,
        engine,
        sinceBase: upserts.size + deletes.size,
        decider: this.deciderOf(engine, live.params),
      });
    } catch (error) {
      this.o.log.warn(
        { tenant: this.o.tenant, err: (error as Error).message },
        'rule overlay compaction failed',
      );
    } finally {
      this.building = false;
    }
  }

  private async rebuild(): Promise<void> {
    // One attempt per 10 s: the `sn` change that resets the count arrives a moment after the build.
    if (this.building || this.now() - this.lastRebuild < 10_000) return;
    this.building = true;
    this.lastRebuild = this.now();
    let built = false;
    try {
      built = (await this.snapshotBuilder().build(this.o.tenant)) !== undefined;
    } catch (error) {
      this.o.log.warn(
        { tenant: this.o.tenant, err: (error as Error).message },
        'rule snapshot rebuild failed',
      );
    } finally {
      this.building = false;
    }
    // The `sn` change may have arrived while this node was still building: compact now.
    if (built) await this.compact();
  }
}

/** Folds one rule change into the pending upserts and deletes (the later change of an id wins). */
function collectRuleChange(
  c: { kind: 'upsert'; rule: Rule } | { kind: 'delete'; ids: readonly number[] },
  upserts: Map<number, Rule>,
  deletes: Set<number>,
): void {
  if (c.kind === 'upsert') {
    upserts.set(c.rule.id, c.rule);
    deletes.delete(c.rule.id);
    return;
  }
  for (const id of c.ids) {
    upserts.delete(id);
    deletes.add(id);
  }
}
