import { Cluster } from 'ioredis';
import { agentEventRoutes } from '../api/routes/agent-events.js';
import { deadLetterRoutes } from '../api/routes/dead-letters.js';
import { decisionRoutes } from '../api/routes/decisions.js';
import { registerApiRouteFactory } from '../cli/serve-roles.js';
import { DecisionLog } from '../store/decision-log.js';
import { EventStreamReader } from '../store/event-stream-reader.js';
import { HitCounters } from '../store/hit-counters.js';
import type { RedisClient } from '../store/redis-client.js';
import { AgentEventHub } from './agent-event-hub.js';
import { DEFAULT_DELIVERY_OPTIONS, webhookDeadLetters } from './webhook-job.js';
import { WebhookQueue } from './webhook-queue.js';

/**
 * The notify admin routes on the api role of `callguard serve`: GET/POST/DELETE /v1/dead-letters,
 * GET /v1/decisions, GET /v1/rule-hits, the agents' push channel GET /v1/agents/{agentId}/events. Imported once by serve-command for its side effect.
 */
registerApiRouteFactory((ctx) => {
  const queue = new WebhookQueue(
    ctx.client,
    { attempts: ctx.config.CALLGUARD_WEBHOOK_ATTEMPTS ?? DEFAULT_DELIVERY_OPTIONS.attempts },
    ctx.log,
  );
  const deadLetters = deadLetterRoutes({ deadLetters: webhookDeadLetters(ctx.client), queue });
  const decisions = decisionRoutes({
    decisionLog: new DecisionLog(ctx.client),
    hits: new HitCounters(ctx.client),
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
  };
});

/** A connection of its own for XREAD BLOCK (it holds the connection while it waits). */
function blockingConnection(client: RedisClient): RedisClient {
  const c =
    client instanceof Cluster ? client.duplicate() : client.duplicate({ enableAutoPipelining: false });
  c.on('error', () => undefined); // the hub logs failed reads itself
  return c;
}
