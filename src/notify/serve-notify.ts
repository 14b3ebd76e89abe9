import { Cluster } from 'ioredis';
import { agentEventRoutes } from '../api/routes/agent-events.js';
import { deadLetterRoutes } from '../api/routes/dead-letters.js';
import { decisionStreamRoutes } from '../api/routes/decision-stream.js';
import { decisionRoutes } from '../api/routes/decisions.js';
import { statsRoutes } from '../api/routes/stats-routes.js';
import { registerApiRouteFactory } from '../cli/serve-roles.js';
import { EventStreamReader } from '../store/event-stream-reader.js';
import { duplicateClient, type RedisClient } from '../store/redis-client.js';
import { AgentEventHub } from './agent-event-hub.js';
import { CallStats } from './call-stats.js';
import { DeadLetterRepository } from './dead-letters.js';
import { DecisionFeed } from './decision-feed.js';
import { DecisionLog } from './decision-log.js';
import { HitCounters } from './hit-counters.js';
import { readNodeReports } from './node-reports.js';
import { DEFAULT_DELIVERY_OPTIONS } from './webhook-job.js';
import { WebhookQueue } from './webhook-queue.js';

/**
 * The notify admin routes on the api role of `callguard serve`: GET/POST/DELETE /v1/dead-letters,
 * GET /v1/decisions, GET /v1/rule-hits, the agents' push channel GET /v1/agents/{agentId}/events,
 * the dashboard's GET /v1/stats/calls and /v1/stats/health, and GET /v1/decisions/stream. Imported once by serve-command for its side effect.
 */
registerApiRouteFactory((ctx) => {
  const queue = new WebhookQueue(
    ctx.client,
    { attempts: ctx.config.CALLGUARD_WEBHOOK_ATTEMPTS ?? DEFAULT_DELIVERY_OPTIONS.attempts },
    ctx.log,
  );
  const deadLetterRepo = new DeadLetterRepository(ctx.client);
  const hits = new HitCounters(ctx.client);
  const deadLetters = deadLetterRoutes({ deadLetters: deadLetterRepo, queue });
  const decisions = decisionRoutes({ decisionLog: new DecisionLog(ctx.client), hits });
  const stats = statsRoutes({
    stats: new CallStats(ctx.client),
    hits,
    deadLetters: deadLetterRepo,
    retrying: (tenant) => queue.retrying(tenant),
    nodes: (tenant) => readNodeReports(ctx.client, tenant),
  });
  const decisionStream = decisionStreamRoutes({
    feed: new DecisionFeed({
      client: ctx.client,
      // No command time limit on it: XREAD BLOCK outlasts the API's fail-fast limit.
      connect: () => duplicateClient(ctx.client),
      log: ctx.log.child({ component: 'decision-streams' }),
    }),
  });
  const hub = new AgentEventHub({
    reader: new EventStreamReader(ctx.client),
    connect: () => blockingConnection(ctx.client),
    log: ctx.log.child({ component: 'agent-streams' }),
  });
  const agentEvents = agentEventRoutes({ hub });
  return (app, deps, auth) => {
    app.addHook('onClose', async () => queue.close());
    deadLetters(app, deps, auth);
    decisions(app, deps, auth);
    agentEvents(app, deps, auth);
    stats(app, deps, auth);
    decisionStream(app, deps, auth);
  };
});

/** A connection of its own for XREAD BLOCK (it holds the connection while it waits). */
function blockingConnection(client: RedisClient): RedisClient {
  const c =
    client instanceof Cluster ? client.duplicate() : client.duplicate({ enableAutoPipelining: false });
  c.on('error', () => undefined); // the hub logs failed reads itself
  return c;
}
