import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { NOTIFY_EVENT_TYPES } from '../../domain/notify-event-types.js';
import type { WebhookDeadLetter as DeadLetter, WebhookDeadLetters } from '../../notify/webhook-job.js';
import type { WebhookQueue } from '../../notify/webhook-queue.js';
import type { ApiDeps } from '../api-deps.js';
import type { RouteModule } from '../app.js';
import { inScope, type TenantPrincipal, tenantOf } from '../auth.js';
import { decodeCursor, encodeCursor, errorResponses, pageQueryShape } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';

/** What the dead-letter routes need from src/notify (NotifyService has both). */
export interface DeadLetterRouteDeps {
  readonly deadLetters: WebhookDeadLetters;
  readonly queue: WebhookQueue;
}

const deadLetterSchema = z
  .object({
    id: z.string().describe('Position in the tenant dead-letter list.'),
    eventId: z.string().describe('The event id (X-Callguard-Event-Id): the receiver de-duplicates by it.'),
    type: z.enum(NOTIFY_EVENT_TYPES),
    target: z.enum(['agentDesktop', 'campaignEngine']),
    url: z.string(),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable().describe('HTTP status of the last attempt; null when none came.'),
    lastError: z.string(),
    failedAt: z.string(),
    event: z.unknown().describe('The event envelope as it was sent. Receivers’ answers are not kept.'),
  })
  .meta({ id: 'DeadLetter' });

const idParams = z.object({
  id: z.string().regex(/^\d{1,20}-\d{1,20}$/, 'a dead-letter id such as 1732252800000-0'),
});

function view(d: DeadLetter): z.output<typeof deadLetterSchema> {
  let event: unknown = d.body;
  try {
    event = JSON.parse(d.body);
  } catch {
    // keep the raw text
  }
  const { body: _body, tenant: _tenant, ...rest } = d;
  return { ...rest, event };
}

/** The rule a dead letter's call event names (call events do; job events name no rule). */
function ruleIdOf(d: DeadLetter): number | undefined {
  try {
    const id = (JSON.parse(d.body) as { data?: { ruleId?: unknown } }).data?.ruleId;
    return typeof id === 'number' && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The dead letters a caller may see: all of them, or for an agent confined to OUs those whose call
 * event names a rule of its OUs (job events and events of other OUs are answered as missing).
 */
async function visibleOf(
  deps: ApiDeps,
  p: TenantPrincipal,
  letters: DeadLetter[],
  scope: ReadonlySet<string> | undefined,
): Promise<DeadLetter[]> {
  if (scope === undefined) return letters;
  const ids = [...new Set(letters.map(ruleIdOf).filter((id): id is number => id !== undefined))];
  const rules = ids.length === 0 ? [] : await deps.rules.getMany(p.tenant, ids);
  const own = new Set(rules.filter((r) => r && inScope(scope, r.ou)).map((r) => r!.id));
  return letters.filter((d) => {
    const id = ruleIdOf(d);
    return id !== undefined && own.has(id);
  });
}

const isStreamId = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}-\d{1,20}$/.test(v);

/**
 * Webhook deliveries that used up their attempts (or went to a refused target), newest first; each
 * can be sent again (fresh attempts, same event id) or dismissed. Needs params:manage: the webhook
 * settings are tenant parameters and the events carry numbers.
 */
export function deadLetterRoutes(notify: DeadLetterRouteDeps): RouteModule {
  return (app, deps) => {
    /** One dead letter the caller may see, or 404. */
    const one = async (p: TenantPrincipal, id: string): Promise<DeadLetter> => {
      const d = await notify.deadLetters.get(p.tenant, id);
      if (!d || (await visibleOf(deps, p, [d], await scopeOf(deps, p))).length === 0)
        throw cgError('CG_ERR_NOT_FOUND', `dead letter ${id} does not exist (redelivered or dismissed?)`);
      return d;
    };
    app.get(
      '/v1/dead-letters',
      {
        config: { auth: 'params:manage' },
        schema: {
          tags: ['webhooks'],
          summary: 'Webhook deliveries that failed for good, newest first',
          querystring: z.object({ ...pageQueryShape, limit: pageQueryShape.limit.pipe(z.number().max(500)) }),
          response: {
            200: z.object({
              items: z.array(deadLetterSchema),
              total: z.number().int(),
              next: z.string().optional(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const p = tenantOf(request);
        const { limit, cursor } = request.query as { limit: number; cursor?: string };
        const before = decodeCursor(cursor, isStreamId);
        const [page, total] = await Promise.all([
          notify.deadLetters.list(p.tenant, { limit, before }),
          notify.deadLetters.count(p.tenant),
        ]);
        const scope = await scopeOf(deps, p);
        const items = await visibleOf(deps, p, page.items, scope);
        return {
          items: items.map(view),
          // A confined agent is not told how many letters of other OUs there are: its page's count.
          total: scope === undefined ? total : items.length,
          ...(page.next ? { next: encodeCursor(page.next) } : {}),
        };
      },
    );

    app.get(
      '/v1/dead-letters/:id',
      {
        config: { auth: 'params:manage' },
        schema: {
          tags: ['webhooks'],
          summary: 'One dead letter',
          params: idParams,
          response: { 200: deadLetterSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        return view(await one(tenantOf(request), id));
      },
    );

    app.post(
      '/v1/dead-letters/:id/redeliver',
      {
        config: { auth: 'params:manage' },
        schema: {
          tags: ['webhooks'],
          summary: 'Queue the delivery again (fresh attempts, same event id) and take it off the list',
          params: idParams,
          response: { 202: z.object({ eventId: z.string(), queued: z.literal(true) }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const { id } = request.params as { id: string };
        const d = await one(p, id);
        await notify.queue.redeliver(d);
        await notify.deadLetters.remove(p.tenant, id);
        return reply.code(202).send({ eventId: d.eventId, queued: true as const });
      },
    );

    app.delete(
      '/v1/dead-letters/:id',
      {
        config: { auth: 'params:manage' },
        schema: {
          tags: ['webhooks'],
          summary: 'Dismiss a dead letter',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const { id } = request.params as { id: string };
        await one(p, id);
        if (!(await notify.deadLetters.remove(p.tenant, id))) {
          throw cgError('CG_ERR_NOT_FOUND', `dead letter ${id} does not exist`);
        }
        return reply.code(204).send(null);
      },
    );
  };
}
