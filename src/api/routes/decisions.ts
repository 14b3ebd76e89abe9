import { z } from 'zod';
import { instantTextSchema } from '../../domain/call-context.js';
import { cgError } from '../../domain/errors.js';
import { normalizeCallNumber } from '../../domain/number.js';
import type { DecisionLog } from '../../store/decision-log.js';
import type { HitCounters } from '../../store/hit-counters.js';
import type { TenantParams } from '../../store/tenant-params.js';
import type { RouteModule } from '../app.js';
import { inScope, ouScope, type TenantPrincipal, tenantOf } from '../auth.js';
import { decodeCursor, encodeCursor, errorResponses, wholeNumberText } from '../schemas.js';

/** What the decision routes need from src/notify (NotifyService has both). */
export interface DecisionRouteDeps {
  readonly decisionLog: DecisionLog;
  readonly hits: HitCounters;
}

export const decisionSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    callId: z.string(),
    direction: z.string(),
    called: z.string(),
    calling: z.string(),
    task: z.string().nullable(),
    action: z.enum(['allow', 'block']),
    ruleId: z.number().int().nullable(),
    basis: z
      .enum(['rule', 'default', 'failure-policy', 'policy'])
      .describe('policy: a contact policy of the task refused a call the rules allow'),
    operation: z.string(),
    node: z.string().describe('The call node that decided.'),
    agent: z.string().nullable().describe('The agent of the call (CALLGUARD_AGENT), if any.'),
    policy: z.object({ id: z.string(), reason: z.string() }).optional(),
  })
  .meta({ id: 'AuditedDecision' });

export const decisionQuery = z
  .object({
    since: instantTextSchema.optional().describe('Epoch ms or ISO time, inclusive.'),
    until: instantTextSchema.optional().describe('Epoch ms or ISO time, inclusive.'),
    number: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Called or calling number (normalised as the tenant does).'),
    action: z.enum(['allow', 'block']).optional(),
    direction: z.enum(['inbound', 'outbound']).optional(),
    ruleId: wholeNumberText(1, 0xffff_ffff).optional(),
    task: z.string().min(1).max(128).optional(),
    callId: z.string().min(1).max(256).optional(),
    agent: z.string().min(1).max(128).optional().describe('The agent of the call (CALLGUARD_AGENT).'),
    limit: wholeNumberText(1, 1000).default(100),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict();

const hitsSchema = z
  .object({ ruleId: z.number().int(), count: z.number().int(), lastHitAt: z.string().nullable() })
  .meta({ id: 'RuleHits' });

/** Decisions and call figures are not owned by an OU: an agent confined to its OUs may not read them. */
export function assertSeesEveryOu(principal: TenantPrincipal, params: TenantParams, what: string): void {
  if (ouScope(principal, params) !== undefined) {
    throw cgError(
      'CG_ERR_FORBIDDEN',
      `${what} span every OU; an agent under data isolation cannot read them`,
    );
  }
}

const isStreamId = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}-\d{1,20}$/.test(v);

/**
 * GET /v1/decisions: the recent window of the tenant's decision audit stream (capped; allows may be
 * sampled), newest first. GET /v1/rule-hits: per-rule hit counters, by ids or ranked.
 * Decisions are not owned by an OU, so an agent confined to its OUs (data isolation) may not read them.
 */
export function decisionRoutes(notify: DecisionRouteDeps): RouteModule {
  return (app, deps) => {
    app.get(
      '/v1/decisions',
      {
        config: { auth: 'rules:read' },
        schema: {
          tags: ['audit'],
          summary: 'Recent decisions, newest first',
          querystring: decisionQuery,
          response: {
            200: z.object({
              items: z.array(decisionSchema),
              next: z
                .string()
                .optional()
                .describe('Cursor of older entries; absent when the window is exhausted.'),
              scanned: z.number().int().describe('Entries looked at for this page (at most 20000).'),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = tenantOf(request);
        const params = await deps.tenants.params(principal.tenant);
        assertSeesEveryOu(principal, params, 'decisions');
        const q = request.query as z.output<typeof decisionQuery>;
        const before = decodeCursor(q.cursor, isStreamId);
        const number =
          q.number === undefined
            ? undefined
            : normalizeCallNumber(q.number, params.normalization) || q.number;
        const page = await notify.decisionLog.query(principal.tenant, { ...q, number, before });
        return {
          items: page.items,
          scanned: page.scanned,
          ...(page.next ? { next: encodeCursor(page.next) } : {}),
        };
      },
    );

    app.get(
      '/v1/rule-hits',
      {
        config: { auth: 'rules:read' },
        schema: {
          tags: ['audit'],
          summary: 'Hit counters: of the given rule ids, or the rules ranked by hits',
          description:
            'With `ids`, every id is answered (count 0 for a rule that never fired). Without, rules that fired at least once, ranked by count (`order=desc` busiest first, `asc` quietest first).',
          querystring: z
            .object({
              ids: z
                .string()
                .regex(/^\d+(,\d+)*$/, 'comma-separated rule ids')
                .optional()
                .transform((s) => (s ? [...new Set(s.split(',').map(Number))].slice(0, 1000) : undefined)),
              order: z.enum(['asc', 'desc']).default('desc'),
              offset: wholeNumberText(0, Number.MAX_SAFE_INTEGER).default(0),
              limit: wholeNumberText(1, 1000).default(100),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(hitsSchema) }), ...errorResponses },
        },
      },
      async (request) => {
        const principal = tenantOf(request);
        const { tenant } = principal;
        const q = request.query as { ids?: number[]; order: 'asc' | 'desc'; offset: number; limit: number };
        const items = q.ids
          ? await notify.hits.readHits(tenant, q.ids)
          : await notify.hits.ranked(tenant, { order: q.order, offset: q.offset, limit: q.limit });
        const scope = ouScope(principal, await deps.tenants.params(tenant));
        if (scope === undefined || items.length === 0) return { items };
        // A confined agent hears only of its OUs' rules: the others are left out, as missing rules are.
        const rules = await deps.rules.getMany(
          tenant,
          items.map((i) => i.ruleId),
        );
        const own = new Set(rules.filter((r) => r && inScope(scope, r.ou)).map((r) => r!.id));
        return { items: items.filter((i) => own.has(i.ruleId)) };
      },
    );
  };
}
