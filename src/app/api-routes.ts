import type { RouteModule } from '../api/app.js';
import { agentEventRoutes } from '../api/routes/agent-events.js';
import { deadLetterRoutes } from '../api/routes/dead-letters.js';
import { decisionStreamRoutes } from '../api/routes/decision-stream.js';
import { decisionRoutes } from '../api/routes/decisions.js';
import { bulkJobRoutes } from '../api/routes/jobs.js';
import { statsRoutes } from '../api/routes/stats-routes.js';
import { AgentEventHub } from '../notify/agent-event-hub.js';
import { DecisionFeed } from '../notify/decision-feed.js';
import { DEFAULT_DELIVERY_OPTIONS, webhookDeadLetters } from '../notify/webhook-job.js';
import { WebhookQueue } from '../notify/webhook-queue.js';
import { CallStats } from '../store/call-stats.js';
import { DecisionLog } from '../store/decision-log.js';
import { EventStreamReader } from '../store/event-stream-reader.js';
import { HitCounters } from '../store/hit-counters.js';
import { readNodeReports } from '../store/node-reports.js';
import { duplicateClient } from '../store/redis-client.js';
import type { ServeContext } from './roles.js';
import { bulkJobsOf, releaseBulkJobs } from './shared-bulk-jobs.js';

/**
 * Makes route modules from the running process's context (a service built from its config and Redis
 * client); what it holds is released in an app onClose hook.
 */
export type ApiRouteFactory = (ctx: ServeContext) => RouteModule | Promise<RouteModule>;

/** Imports, exports, file servers, schedules and the task view, over this client's BulkJobs. */
const bulkJobs: ApiRouteFactory = async (ctx) => {
  const modules = await bulkJobRoutes(bulkJobsOf(ctx));
  return (app, deps, auth) => {
    app.addHook('onClose', async () => releaseBulkJobs(ctx.client));
    for (const m of modules) m(app, deps, auth);
  };
};

/** GET/POST/DELETE /v1/dead-letters: failed webhooks, replayed through the webhook queue. */
const deadLetters: ApiRouteFactory = (ctx) => {
  const queue = new WebhookQueue(
    ctx.client,
    { attempts: ctx.config.CALLGUARD_WEBHOOK_ATTEMPTS ?? DEFAULT_DELIVERY_OPTIONS.attempts },
    ctx.log,
  );
  const routes = deadLetterRoutes({ deadLetters: webhookDeadLetters(ctx.client), queue });
  return (app, deps, auth) => {
    app.addHook('onClose', async () => queue.close());
    routes(app, deps, auth);
  };
};

/** GET /v1/decisions and GET /v1/rule-hits. */
const decisions: ApiRouteFactory = (ctx) =>
  decisionRoutes({ decisionLog: new DecisionLog(ctx.client), hits: new HitCounters(ctx.client) });

/** The agents' push channel GET /v1/agents/{agentId}/events (SSE). */
const agentEvents: ApiRouteFactory = (ctx) =>
  agentEventRoutes({
    hub: new AgentEventHub({
      reader: new EventStreamReader(ctx.client),
      // A connection of its own for XREAD BLOCK, without the API's command time limit.
      connect: () => duplicateClient(ctx.client),
      log: ctx.log.child({ component: 'agent-streams' }),
    }),
  });

/** The dashboard's GET /v1/stats/calls and GET /v1/stats/health. */
const stats: ApiRouteFactory = (ctx) => {
  const queue = new WebhookQueue(
    ctx.client,
    { attempts: ctx.config.CALLGUARD_WEBHOOK_ATTEMPTS ?? DEFAULT_DELIVERY_OPTIONS.attempts },
    ctx.log,
  );
  const routes = statsRoutes({
    stats: new CallStats(ctx.client),
    hits: new HitCounters(ctx.client),
    deadLetters: webhookDeadLetters(ctx.client),
    retrying: (tenant) => queue.retrying(tenant),
    nodes: (tenant) => readNodeReports(ctx.client, tenant),
  });
  return (app, deps, auth) => {
    app.addHook('onClose', async () => queue.close());
    routes(app, deps, auth);
  };
};

/** The console's live decisions, GET /v1/decisions/stream (SSE). */
const decisionStream: ApiRouteFactory = (ctx) =>
  decisionStreamRoutes({
    feed: new DecisionFeed({
      client: ctx.client,
      // No command time limit on it: XREAD BLOCK outlasts the API's fail-fast limit.
      connect: () => duplicateClient(ctx.client),
      log: ctx.log.child({ component: 'decision-streams' }),
    }),
  });

/**
 * The api role's routes beyond the API's own (api/app.ts ROUTES, which need only the repositories):
 * those of a feature whose service is built from the process. A new one is one line here.
 */
export const FEATURE_ROUTES: readonly ApiRouteFactory[] = [
  bulkJobs,
  deadLetters,
  decisions,
  agentEvents,
  stats,
  decisionStream,
];

export const featureRoutesOf = (ctx: ServeContext): Promise<RouteModule[]> =>
  Promise.all(FEATURE_ROUTES.map((make) => make(ctx)));
