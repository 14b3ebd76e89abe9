import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { AgentEventHub, AgentStreamSink } from '../../notify/agent-event-hub.js';
import { agentIdSchema } from '../../store/api-key-repository.js';
import type { FastifyReply, FastifyRequest } from '../api-deps.js';
import type { RouteModule } from '../app.js';
import { type TenantPrincipal, tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { endWhenKeyGoes, openEventStream, sseEvent } from './event-stream-response.js';

/** The cookie a browser page may carry the key in (EventSource cannot set headers). */
export const AGENT_KEY_COOKIE = 'callguard_key';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * For this route only: a key given as `?key=` or in the `callguard_key` cookie stands for the
 * Authorization header (browsers' EventSource cannot send headers). Runs before the auth hook.
 */
function keyFromQueryOrCookie(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  if (request.headers.authorization === undefined) {
    const query = request.query as Record<string, unknown> | undefined;
    const key =
      (typeof query?.key === 'string' ? query.key : undefined) ??
      cookieValue(request.headers.cookie, AGENT_KEY_COOKIE);
    if (key) request.headers.authorization = `Bearer ${key}`;
  }
  done();
}

/** An agent key reaches only its own agent id; an admin key any agent of its tenant. */
function assertMayWatch(p: TenantPrincipal, agentId: string): void {
  if (p.role !== 'agent') return;
  if (p.agentId === undefined) {
    throw cgError(
      'CG_ERR_FORBIDDEN',
      'this agent key has no agent id; create the agent key with "agentId" (the CALLGUARD_AGENT of its calls)',
    );
  }
  if (p.agentId !== agentId) {
    throw cgError('CG_ERR_FORBIDDEN', `this key belongs to agent "${p.agentId}", not "${agentId}"`, {
      agentId: p.agentId,
    });
  }
}

const lastEventIdSchema = z.string().min(1).max(128).optional();

/**
 * GET /v1/agents/{agentId}/events (Server-Sent Events: every `agent.popup` and `call.wrapped_up` of
 * the agent, `id` = event id, `data` = the webhook body; Last-Event-ID resumes) and GET /v1/agents/me.
 */
export function agentEventRoutes(deps: {
  readonly hub: AgentEventHub;
  /** How often an open stream's key is checked again (default KEY_RECHECK_MS). */
  readonly keyRecheckMs?: number;
}): RouteModule {
  return (app, api) => {
    // Before Fastify waits for open requests to end: the streams would hold the shutdown forever.
    app.addHook('preClose', (done) => {
      deps.hub.close();
      done();
    });

    app.get(
      '/v1/agents/me',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['agents'],
          summary: 'The agent the key belongs to (agent keys with an agent id)',
          response: {
            200: z
              .object({ tenant: z.string(), role: z.string(), agentId: z.string().optional() })
              .meta({ id: 'KeyAgent' }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const p = tenantOf(request);
        return { tenant: p.tenant, role: p.role, ...(p.agentId ? { agentId: p.agentId } : {}) };
      },
    );

    app.get(
      '/v1/agents/:agentId/events',
      {
        config: { auth: 'any' },
        // no HEAD: a stream's headers go out with its first bytes, so a HEAD would hang open
        exposeHeadRoute: false,
        onRequest: keyFromQueryOrCookie,
        schema: {
          tags: ['agents'],
          summary:
            "An agent's pop-ups and wrap-ups as Server-Sent Events (text/event-stream): id = event id, data = the webhook body; send Last-Event-ID to resume. The key may also come as ?key= or the callguard_key cookie (EventSource cannot set headers).",
          params: z.object({ agentId: agentIdSchema }).strict(),
          querystring: z
            .object({
              key: z
                .string()
                .max(512)
                .optional()
                .describe('The API key, for clients that cannot send headers.'),
              lastEventId: lastEventIdSchema.describe('Same as the Last-Event-ID header.'),
            })
            .strict(),
          headers: z.object({ 'last-event-id': lastEventIdSchema }).loose(),
          response: errorResponses,
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const { agentId } = request.params as { agentId: string };
        assertMayWatch(p, agentId);
        const lastEventId =
          (request.headers['last-event-id'] as string | undefined) ??
          (request.query as { lastEventId?: string }).lastEventId;
        let opened: Awaited<ReturnType<AgentEventHub['subscribe']>>;
        try {
          opened = await deps.hub.subscribe(p.tenant, agentId, lastEventId);
        } catch (error) {
          throw cgError('CG_ERR_UNAVAILABLE', `the event stream cannot be read: ${(error as Error).message}`);
        }
        const { subscription, resumed } = opened;
        reply.hijack();
        const res = reply.raw;
        const stream = openEventStream(res, () => subscription.end('overflow'));
        if (!resumed) {
          stream.write(
            `event: reset\ndata: ${JSON.stringify({ lastEventId, reason: 'not in the event stream any more; events from now on' })}\n\n`,
          );
        }
        const sink: AgentStreamSink = {
          event: (entry) => stream.write(sseEvent(entry.id, entry.body)),
          heartbeat: stream.heartbeat,
          end: stream.end,
        };
        request.raw.socket.setNoDelay(true);
        res.on('close', () => subscription.end());
        subscription.attach(sink);
        endWhenKeyGoes(api.keys, p, res, () => res.end(), deps.keyRecheckMs);
      },
    );
  };
}
