import { Cluster } from 'ioredis';
import { withinMs } from '../bounded.js';
import { type BulkJobs, createBulkJobs } from '../jobs/bulk-jobs.js';
import { type ServeContext, storeOptionsOf } from './roles.js';

/** The URL the process's client really uses (an embedded Redis runs on a port of its own). */
function urlOf(ctx: ServeContext): string {
  const c = ctx.client;
  if (c instanceof Cluster) return ctx.config.REDIS_URL;
  const o = c.options;
  const auth = o.password ? `${encodeURIComponent(o.username ?? '')}:${encodeURIComponent(o.password)}@` : '';
  const scheme = o.tls ? 'rediss' : 'redis';
  return `${scheme}://${auth}${o.host ?? '127.0.0.1'}:${o.port ?? 6379}/${o.db ?? 0}`;
}

/**
 * One BulkJobs per Redis client, shared by the roles that use that client, made on first use. The api
 * role brings a fail-fast connection of its own (answers 503 at once while Redis is away); the worker
 * role keeps the process's patient one (an import waits out a short outage).
 */
const shared = new Map<ServeContext['client'], { jobs: BulkJobs; users: number }>();

/** The client's BulkJobs; every call is matched by one releaseBulkJobs(). */
export function bulkJobsOf(ctx: ServeContext): BulkJobs {
  let entry = shared.get(ctx.client);
  if (!entry) {
    entry = {
      jobs: createBulkJobs(
        { ...ctx.config, REDIS_URL: urlOf(ctx) },
        ctx.client,
        storeOptionsOf(ctx),
        ctx.log.child({ component: 'jobs' }),
      ),
      users: 0,
    };
    shared.set(ctx.client, entry);
  }
  entry.users++;
  return entry.jobs;
}

/** Lets go of one use; the last one closes the queues (bounded: Redis away must not hold a stop). */
export async function releaseBulkJobs(client: ServeContext['client']): Promise<void> {
  const entry = shared.get(client);
  if (!entry || --entry.users > 0) return;
  shared.delete(client);
  await withinMs(entry.jobs.close(), 1_000).catch(() => undefined);
}
