import type { CallEventSink } from '../call/call-events.js';
import type { DecisionObserver } from '../call/call-screener.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../store/redis-client.js';
import type { StoreOptions } from '../store/store-options.js';
import type { SyncRegistry } from '../store/sync-registry.js';

export const ROLE_NAMES = ['api', 'ari', 'esl', 'worker'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** What every role of `callguard serve` gets: one config, one logger, one Redis client, one registry. */
export interface ServeContext {
  readonly config: Config;
  readonly log: Logger;
  readonly client: RedisClient;
  /** The in-memory engines kept in sync with Redis: the PBX apps' DeciderSource. */
  readonly registry: SyncRegistry;
  /** Where the PBX apps hand call events (webhooks, event stream). */
  readonly events: CallEventSink;
  /** The roles this process runs. */
  readonly roles: ReadonlySet<RoleName>;
  /** Sees every call decision (decision audit, hit counters). */
  readonly observer?: DecisionObserver;
}

/** A started role. stop(): take no new work, finish what is in flight, let go of connections. */
export interface RunningRole {
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: ServeContext) => Promise<RunningRole>;

/** The store settings every repository of this process is built with. */
export const storeOptionsOf = (ctx: Pick<ServeContext, 'config'>): StoreOptions => ({
  streamMaxLen: ctx.config.CALLGUARD_STREAM_MAXLEN,
  snapshotEvery: ctx.config.CALLGUARD_SNAPSHOT_EVERY,
});
