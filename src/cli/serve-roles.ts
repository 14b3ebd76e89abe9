import type { RouteModule } from '../api/app.js';
import type { CallEventSink } from '../call/call-events.js';
import type { DecisionObserver } from '../call/call-screener.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../store/redis-client.js';
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

/** Makes a route module from the running process's context (its config, Redis client, registry). */
export type ApiRouteFactory = (ctx: ServeContext) => RouteModule | Promise<RouteModule>;

const starters = new Map<RoleName, RoleStarter>();
const apiRoutes: ApiRouteFactory[] = [];

/**
 * Plugs a role in (the last registration wins). The bulk-jobs worker registers 'worker' here; its
 * admin routes go in with registerApiRouteFactory() so that the api role serves them.
 */
export function registerRole(name: RoleName, starter: RoleStarter): void {
  starters.set(name, starter);
}

export function roleStarter(name: RoleName): RoleStarter | undefined {
  return starters.get(name);
}

/**
 * An extra API route module (jobs, imports, exports, events, notify) the api role registers beside
 * its own, made from the process's context (e.g. a service built from the config and the Redis
 * client) when the api role starts; release what it holds in an app onClose hook.
 */
export function registerApiRouteFactory(factory: ApiRouteFactory): void {
  apiRoutes.push(factory);
}

export async function extraApiRoutes(ctx: ServeContext): Promise<RouteModule[]> {
  return Promise.all(apiRoutes.map((f) => f(ctx)));
}
