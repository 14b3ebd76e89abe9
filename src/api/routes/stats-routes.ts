import { z } from 'zod';
import type { WebhookDeadLetters } from '../../notify/webhook-job.js';
import type { CallStats, StatsBucket } from '../../store/call-stats.js';
import type { HitCounters } from '../../store/hit-counters.js';
import type { NodeReport } from '../../store/node-reports.js';
import type { RouteModule } from '../app.js';
import { tenantOf } from '../auth.js';
import { errorResponses, wholeNumberText } from '../schemas.js';
import { assertSeesEveryOu } from './decisions.js';

/** What the stats routes read from src/notify (serve-notify.ts wires them). */
export interface StatsRouteDeps {
  readonly stats: CallStats;
  readonly hits: HitCounters;
  readonly deadLetters: WebhookDeadLetters;
  /** Deliveries of the tenant waiting out a backoff, per event type. */
  readonly retrying: (tenant: string) => Promise<Map<string, number>>;
  readonly nodes: (tenant: string) => Promise<NodeReport[]>;
}

/** The webhook events the dashboard follows: the agents' pop-ups and the campaign engine's wrap-ups. */
const CALL_EVENT_TYPES = ['agent.popup', 'call.wrapped_up'] as const;

const bucketSchema = z.object({
  at: z.string().describe('Start of the bucket (ISO time, UTC).'),
  screened: z.number().int(),
  blocked: z.number().int(),
});

const seriesSchema = z.object({
  bucketSeconds: z.number().int(),
  screened: z.number().int().describe('Sum over the buckets.'),
  blocked: z.number().int(),
  buckets: z.array(bucketSchema).describe('Oldest first; the last is the current, partial, bucket.'),
});

const callStatsSchema = z
  .object({
    generatedAt: z.string(),
    lastHour: seriesSchema.describe('Per minute, the last 60 minutes.'),
    lastWeek: seriesSchema.describe('Per hour, the last 7 days.'),
    blocksByType: z
      .array(z.object({ typeId: z.string().nullable(), blocked: z.number().int() }))
      .describe('Blocks of the last 7 days by the winning rule’s type (null: no type), most first.'),
    blocksByGroup: z
      .array(z.object({ groupId: z.string().nullable(), blocked: z.number().int() }))
      .describe('Blocks of the last 7 days by the winning rule’s group (null: a global rule), most first.'),
    blockedWithoutRule: z
      .number()
      .int()
      .describe('Blocks of the last 7 days no rule decided: the tenant default or the failure policy.'),
    blockedByDeletedRules: z.number().int().describe('Blocks of the last 7 days by rules deleted since.'),
    topRules: z
      .array(
        z.object({
          ruleId: z.number().int(),
          hits: z.number().int(),
          lastHitAt: z.string().nullable(),
          rule: z
            .object({
              called: z.string().optional(),
              calling: z.string().optional(),
              direction: z.string(),
              action: z.string(),
              groupId: z.string().optional(),
              typeId: z.string().optional(),
            })
            .nullable()
            .describe('null: the rule was deleted.'),
        }),
      )
      .describe('The rules with the most hits since counting began, most first.'),
  })
  .meta({ id: 'CallStats' });

const deliveryHealthSchema = z
  .object({
    generatedAt: z.string(),
    deliveries: z.array(
      z.object({
        type: z.enum(CALL_EVENT_TYPES),
        delivered: z.number().int().describe('Delivered in the last 7 days.'),
        deadLettered: z.number().int().describe('Moved to the dead letters in the last 7 days.'),
        retrying: z
          .number()
          .int()
          .nullable()
          .describe(
            'Waiting now for another attempt after a failure; null when the queue could not be read.',
          ),
      }),
    ),
    deadLetters: z.number().int().describe('Dead letters waiting now (every event type).'),
    nodes: z
      .array(
        z.object({
          node: z.string(),
          reportedAt: z.string(),
          loaded: z.boolean(),
          version: z.string(),
          rules: z.number().int(),
          connected: z.boolean(),
          stalenessSeconds: z
            .number()
            .nullable()
            .describe('How far behind the rules the node may be now; null: it never loaded them.'),
        }),
      )
      .describe('The call nodes that report on this tenant’s rules (every 10 s), by name.'),
  })
  .meta({ id: 'DeliveryHealth' });

const seriesOf = (buckets: StatsBucket[], bucketSeconds: number) => ({
  bucketSeconds,
  screened: buckets.reduce((n, b) => n + b.screened, 0),
  blocked: buckets.reduce((n, b) => n + b.blocked, 0),
  buckets,
});

function ranked<K>(counts: Map<K, number>): Array<[K, number]> {
  return [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
}

/**
 * GET /v1/stats/calls (calls screened and blocked per minute and per hour, blocks by type and group,
 * the top rules) and GET /v1/stats/health (webhook delivery, call nodes' sync): the console's
 * dashboard. Figures span every OU, so an agent under data isolation may not read them.
 */
export function statsRoutes(notify: StatsRouteDeps): RouteModule {
  return (app, deps) => {
    app.get(
      '/v1/stats/calls',
      {
        config: { auth: 'rules:read' },
        schema: {
          tags: ['stats'],
          summary: 'Calls screened and blocked over time, blocks by type and group, top rules',
          description:
            'Counted by the call nodes for every call (allows included when their audit is sampled) and written about once a second.',
          querystring: z
            .object({
              top: wholeNumberText(1, 100).default(10).describe('How many top rules, 1-100.'),
            })
            .strict(),
          response: { 200: callStatsSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = tenantOf(request);
        const { tenant } = principal;
        assertSeesEveryOu(principal, await deps.tenants.params(tenant), 'call figures');
        const { top } = request.query as { top: number };
        const now = Date.now();
        const [window, hits] = await Promise.all([
          notify.stats.window(tenant, now),
          notify.hits.ranked(tenant, { order: 'desc', limit: top }),
        ]);
        const blockRules = [...window.blocksByRule.keys()].filter((id) => id > 0);
        const wanted = [...new Set([...blockRules, ...hits.map((h) => h.ruleId)])];
        const rules = new Map((await deps.rules.getMany(tenant, wanted)).map((r) => [r.id, r]));
        const byType = new Map<string | null, number>();
        const byGroup = new Map<string | null, number>();
        let deleted = 0;
        for (const [id, n] of window.blocksByRule) {
          if (id === 0) continue;
          const rule = rules.get(id);
          if (!rule) {
            deleted += n;
            continue;
          }
          byType.set(rule.typeId ?? null, (byType.get(rule.typeId ?? null) ?? 0) + n);
          byGroup.set(rule.groupId ?? null, (byGroup.get(rule.groupId ?? null) ?? 0) + n);
        }
        return {
          generatedAt: new Date(now).toISOString(),
          lastHour: seriesOf(window.minutes, 60),
          lastWeek: seriesOf(window.hours, 3600),
          blocksByType: ranked(byType).map(([typeId, blocked]) => ({ typeId, blocked })),
          blocksByGroup: ranked(byGroup).map(([groupId, blocked]) => ({ groupId, blocked })),
          blockedWithoutRule: window.blocksByRule.get(0) ?? 0,
          blockedByDeletedRules: deleted,
          topRules: hits.map((h) => {
            const r = rules.get(h.ruleId);
            return {
              ruleId: h.ruleId,
              hits: h.count,
              lastHitAt: h.lastHitAt,
              rule: r
                ? {
                    called: r.called,
                    calling: r.calling,
                    direction: r.direction,
                    action: r.action,
                    groupId: r.groupId,
                    typeId: r.typeId,
                  }
                : null,
            };
          }),
        };
      },
    );

    app.get(
      '/v1/stats/health',
      {
        config: { auth: 'rules:read' },
        schema: {
          tags: ['stats'],
          summary: 'Pop-up and wrap-up delivery (delivered, retrying, dead letters) and the call nodes’ sync',
          querystring: z.object({}).strict(),
          response: { 200: deliveryHealthSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = tenantOf(request);
        const { tenant } = principal;
        assertSeesEveryOu(principal, await deps.tenants.params(tenant), 'delivery figures');
        const now = Date.now();
        const [delivered, retrying, deadLetters, nodes] = await Promise.all([
          notify.stats.deliveries(tenant, CALL_EVENT_TYPES, now),
          // The queue's view is a bonus: the other figures still answer when it cannot be read.
          notify.retrying(tenant).catch(() => null),
          notify.deadLetters.count(tenant),
          notify.nodes(tenant),
        ]);
        return {
          generatedAt: new Date(now).toISOString(),
          deliveries: CALL_EVENT_TYPES.map((type) => ({
            type,
            delivered: delivered.get(type)?.delivered ?? 0,
            deadLettered: delivered.get(type)?.deadLettered ?? 0,
            retrying: retrying === null ? null : (retrying.get(type) ?? 0),
          })),
          deadLetters,
          nodes,
        };
      },
    );
  };
}
