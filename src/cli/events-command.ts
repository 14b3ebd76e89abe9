import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { type StreamedEvent, tailEvents } from '../notify/event-stream.js';
import { assertTenantId } from '../store/keys.js';
import { createRedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { err, out } from './output.js';

/** One line for people: time, tenant, type, the few fields that say what happened, the event id. */
export function eventLine(e: StreamedEvent): string {
  const { event } = e;
  const d = event.data as unknown as Record<string, unknown>;
  const pick = (...keys: string[]) =>
    keys
      .filter((k) => d[k] !== undefined && d[k] !== '')
      .map((k) => `${k}=${String(d[k])}`)
      .join(' ');
  const detail =
    event.type === 'agent.popup' || event.type === 'call.wrapped_up'
      ? pick('number', 'task', 'agent', 'ruleId', 'typeId', 'businessResult', 'callId')
      : pick('jobId', 'state');
  return `${event.createdAt}  ${event.tenant}  ${event.type}  ${detail}  id=${event.id}`;
}

/**
 * `callguard events tail [--tenant T] [--json]`: follows the event streams (pop-ups, wrap-ups,
 * import/export finished) live, until Ctrl-C. Without --tenant it follows every tenant known at start.
 */
export function registerEventsCommand(program: Command): void {
  const events = program.command('events').description('published events (pop-ups, wrap-ups, job ends)');
  events
    .command('tail')
    .description('show events live as they are published, until interrupted')
    .option('--tenant <id>', 'only this tenant (default: every tenant)')
    .option('--json', 'one JSON event envelope per line')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      const config = loadConfig();
      const client = createRedisClient({
        url: config.REDIS_URL,
        cluster: config.REDIS_CLUSTER,
        redisOptions: { maxRetriesPerRequest: null },
      });
      // Follow through Redis outages (commands wait for the reconnection), saying so once per outage.
      let down = false;
      client.on('error', (error: NodeJS.ErrnoException) => {
        if (down) return;
        down = true;
        err(`callguard: Redis is not reachable (${error.code ?? error.message}); retrying`);
      });
      client.on('ready', () => {
        if (!down) return;
        down = false;
        err('callguard: Redis is back');
      });
      const controller = new AbortController();
      // Closing the connection also ends a command waiting for Redis to come back.
      const stop = () => {
        controller.abort();
        client.disconnect();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const tenants = opts.tenant
          ? [assertTenantId(opts.tenant)]
          : await new TenantRepository(client).ids();
        if (tenants.length === 0) {
          err('callguard: no tenants yet; nothing to follow');
          return;
        }
        await tailEvents(client, {
          tenants,
          signal: controller.signal,
          onReady: () =>
            err(
              `following events of ${tenants.length === 1 ? tenants[0] : `${tenants.length} tenants`} (Ctrl-C stops)`,
            ),
          onEvent: (e) => out(opts.json ? JSON.stringify(e.event) : eventLine(e)),
        });
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        client.disconnect();
      }
    });
}
