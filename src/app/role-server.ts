import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { NotifyService } from '../notify/notify-service.js';
import { RedisAttemptCounter } from '../store/attempt-counters.js';
import { ensureRedis, logRedisInUse } from '../store/embedded-redis.js';
import { createRedisClient, type RedisClient } from '../store/redis-client.js';
import { checkServer } from '../store/server-check.js';
import { SyncRegistry } from '../store/sync-registry.js';
import { startHealthServer } from './health-server.js';
import { ROLE_STARTERS } from './role-starters.js';
import { ROLE_NAMES, type RoleName, type RunningRole, type ServeContext, storeOptionsOf } from './roles.js';

/** Order of stopping: stop taking calls and jobs (drain live calls), then the API, then the shared pieces. */
const STOP_ORDER: readonly RoleName[][] = [['ari', 'esl', 'worker'], ['api']];

export interface Server {
  /** Resolves once every role has started (rejects when one could not). */
  readonly started: Promise<ServeContext>;
  /** Stops what has started, in order; safe to call during start-up and more than once. */
  stop(): Promise<void>;
}

/**
 * Starts the roles over one Redis client and one sync registry. When nothing answers at the default
 * REDIS_URL and redis-server is installed, a private one is started with AOF in CALLGUARD_DATA_DIR.
 */
export function startServer(config: Config, roles: ReadonlySet<RoleName>, log: Logger): Server {
  const running = new Map<RoleName, RunningRole>();
  let embedded: Awaited<ReturnType<typeof ensureRedis>>;
  let client: RedisClient | undefined;
  let notify: NotifyService | undefined;
  let registry: SyncRegistry | undefined;
  let attempts: RedisAttemptCounter | undefined;
  let stopping: Promise<void> | undefined;

  const stopRoles = async () => {
    for (const group of STOP_ORDER) {
      await Promise.all(
        group.map(async (name) => {
          const role = running.get(name);
          if (!role) return;
          running.delete(name);
          try {
            await role.stop();
            log.info({ role: name }, 'role stopped');
          } catch (error) {
            log.error({ role: name, err: error }, 'role did not stop cleanly');
          }
        }),
      );
    }
  };
  const closeShared = async () => {
    await registry?.stop().catch(() => {});
    await attempts?.stop().catch(() => {});
    await notify?.close().catch(() => {});
    if (client) await client.quit().catch(() => client?.disconnect());
    await embedded?.stop();
    embedded = undefined;
  };

  const started = (async () => {
    embedded = await ensureRedis(config, log);
    logRedisInUse(log, config, embedded);
    const connection = { url: embedded?.url ?? config.REDIS_URL, cluster: config.REDIS_CLUSTER };
    client = createRedisClient({
      ...connection,
      // Commands of concurrent requests go out in one write: the API's throughput under load. With
      // Redis away, a command fails after a few reconnect attempts (the API answers 503 in well under
      // a second) instead of queueing for a minute; the rule sync retries on its own.
      redisOptions: { enableAutoPipelining: true, maxRetriesPerRequest: 3 },
    });
    const c = client;
    void checkServer(c, log).catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'could not read the Redis server settings'),
    );
    // Rebuilding a tenant's snapshot compiles all its rules (seconds of CPU at 10M rules); it runs on a
    // worker thread, and a process that answers calls still leaves it to worker or API nodes when
    // those run elsewhere (its reads from Redis and the stored copy are work too).
    const callNode = roles.has('ari') || roles.has('esl');
    const buildSnapshots = !callNode || roles.has('worker') || roles.has('api');
    // Contact policy caps: attempts counted here, merged with the other nodes' in the background.
    attempts = new RedisAttemptCounter({ client: c, log }).start();
    registry = new SyncRegistry({
      client: c,
      log,
      store: storeOptionsOf({ config }),
      buildSnapshots,
      snapshotThread: connection,
      attempts,
    });
    await registry.start(undefined, 30_000);
    const synced = registry;
    notify = new NotifyService({
      config,
      client: c,
      log,
      worker: roles.has('worker'),
      syncStatus: callNode ? () => synced.status() : undefined,
    }).start();
    const ctx: ServeContext = {
      config,
      log,
      client: c,
      registry,
      events: notify.notifier,
      observer: notify.recorder,
      roles,
    };
    for (const name of ROLE_NAMES) {
      if (!roles.has(name) || stopping) continue;
      running.set(name, await ROLE_STARTERS[name]({ ...ctx, log: log.child({ role: name }) }));
      log.info({ role: name }, 'role started');
    }
    const health = stopping ? undefined : await startHealthServer(ctx);
    // no api role here: the health server takes its slot, so it stops last, after the drain
    if (health) running.set('api', health);
    return ctx;
  })();

  const stop = () => {
    stopping ??= (async () => {
      await started.catch(() => {});
      await stopRoles();
      await closeShared();
    })();
    return stopping;
  };
  return { started, stop };
}
