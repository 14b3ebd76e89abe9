import { deadLetterRoutes } from '../api/routes/dead-letters.js';
import { decisionRoutes } from '../api/routes/decisions.js';
import { registerApiRouteFactory } from '../cli/serve-roles.js';
import { DeadLetterRepository } from './dead-letters.js';
import { DecisionLog } from './decision-log.js';
import { HitCounters } from './hit-counters.js';
import { DEFAULT_DELIVERY_OPTIONS } from './webhook-job.js';
import { WebhookQueue } from './webhook-queue.js';

/**
 * The notify admin routes on the api role of `callguard serve`: GET/POST/DELETE /v1/dead-letters,
 * GET /v1/decisions, GET /v1/rule-hits. Imported once by serve-command for its side effect.
 */
registerApiRouteFactory((ctx) => {
  const queue = new WebhookQueue(
    ctx.client,
    { attempts: ctx.config.CALLGUARD_WEBHOOK_ATTEMPTS ?? DEFAULT_DELIVERY_OPTIONS.attempts },
    ctx.log,
  );
  const deadLetters = deadLetterRoutes({ deadLetters: new DeadLetterRepository(ctx.client), queue });
  const decisions = decisionRoutes({
    decisionLog: new DecisionLog(ctx.client),
    hits: new HitCounters(ctx.client),
  });
  return (app, deps, auth) => {
    app.addHook('onClose', async () => queue.close());
    deadLetters(app, deps, auth);
    decisions(app, deps, auth);
  };
});
