import { z } from 'zod';
import { normalizeCallNumber } from '../../domain/number.js';
import type { DecisionFeed, DecisionSink } from '../../notify/decision-feed.js';
import type { RouteModule } from '../app.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { assertSeesEveryOu, decisionQuery } from './decisions.js';
import { endWhenKeyGoes, openEventStream, sseEvent } from './event-stream-response.js';

const streamQuery = decisionQuery
  .pick({ direction: true, action: true, task: true, agent: true, number: true })
  .strict();

const lastEventId = z
  .string()
  .regex(/^\d{1,20}-\d{1,20}$/, 'the id of a decision this stream sent')
  .optional();

/**
 * GET /v1/decisions/stream: the tenant's decisions as they are recorded, as Server-Sent Events (`id`
 * = the decision's position, `data` = the decision as GET /v1/decisions gives it), filtered by
 * direction, action, task, agent and number. Last-Event-ID replays what came after it.
 */
export function decisionStreamRoutes(deps: {
  readonly feed: DecisionFeed;
  /** How often an open stream's key is checked again (default KEY_RECHECK_MS). */
  readonly keyRecheckMs?: number;
}): RouteModule {
  return (app, api) => {
    // Before Fastify waits for open requests to end: the streams would hold the shutdown forever.
    app.addHook('preClose', (done) => {
      deps.feed.close();
      done();
    });

    app.get(
      '/v1/decisions/stream',
      {
        config: { auth: 'rules:read' },
        // no HEAD: a stream's headers go out with its first bytes, so a HEAD would hang open
        exposeHeadRoute: false,
        schema: {
          tags: ['audit'],
          summary:
            'The tenant’s decisions as they happen, as Server-Sent Events (text/event-stream): id = decision id, data = the decision (AuditedDecision). Send Last-Event-ID to resume. Allows may be sampled (CALLGUARD_AUDIT_ALLOW_SAMPLE).',
          querystring: streamQuery,
          headers: z.object({ 'last-event-id': lastEventId }).loose(),
          response: errorResponses,
        },
      },
      async (request, reply) => {
        const principal = tenantOf(request);
        const params = await api.tenants.params(principal.tenant);
        assertSeesEveryOu(principal, params, 'decisions');
        const q = request.query as z.output<typeof streamQuery>;
        const number =
          q.number === undefined
            ? undefined
            : normalizeCallNumber(q.number, params.normalization) || q.number;
        // Headers first: decisions replayed while subscribing are written as they come.
        reply.hijack();
        const res = reply.raw;
        const stream = openEventStream(res, () => res.destroy());
        const sink: DecisionSink = {
          decision: (d) => stream.write(sseEvent(d.id, JSON.stringify(d))),
          heartbeat: stream.heartbeat,
          end: stream.end,
        };
        let subscription: Awaited<ReturnType<DecisionFeed['subscribe']>>;
        try {
          subscription = await deps.feed.subscribe(
            principal.tenant,
            { ...q, number },
            sink,
            request.headers['last-event-id'] as string | undefined,
          );
        } catch (error) {
          // The client's EventSource reconnects after `retry`.
          const message = `the decision stream cannot be read: ${(error as Error).message}`;
          stream.write(`event: error\ndata: ${JSON.stringify({ code: 'CG_ERR_UNAVAILABLE', message })}\n\n`);
          res.end();
          return;
        }
        request.raw.socket.setNoDelay(true);
        res.on('close', () => subscription.end());
        if (res.destroyed) subscription.end();
        endWhenKeyGoes(api.keys, principal, res, () => res.end(), deps.keyRecheckMs);
      },
    );
  };
}
