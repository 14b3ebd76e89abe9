import { z } from 'zod';
import type { CallHandlingSettings } from '../call/call-plan.js';
import { notifyEventTypeSchema } from '../domain/notify-event-types.js';
import type { NormalizationPolicy } from '../domain/number.js';
import { actionSchema, countrySchema } from '../domain/rule.js';

const failureMode = z.enum(['fail-open', 'fail-closed']);

/** A tenant's settings: how numbers are compared, the default answer and how calls are handled. */
export const tenantParamsSchema = z
  .object({
    normalization: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('e164'), defaultCountry: countrySchema }).strict(),
        z.object({ mode: z.literal('digits') }).strict(),
      ])
      .default({ mode: 'digits' }),
    defaultAction: actionSchema.default('allow'),
    /** Q.850 cause for hang-ups (21 call rejected). */
    hangupCause: z.number().int().min(1).max(127).default(21),
    blockWithoutType: z.enum(['hangup', 'continue']).default('hangup'),
    failurePolicy: z
      .object({ inbound: failureMode.default('fail-open'), outbound: failureMode.default('fail-closed') })
      .strict()
      .default({ inbound: 'fail-open', outbound: 'fail-closed' }),
    /** Agents see and touch only the rules of their OUs. */
    dataIsolation: z.boolean().default(false),
    /** Scheduled imports/exports allowed per tenant. */
    scheduleLimit: z.number().int().min(0).max(1000).default(10),
    /** Scheduled import tasks allowed per tenant. */
    maxScheduledImports: z.number().int().min(0).max(1000).default(10),
    /** Scheduled export tasks allowed per tenant. */
    maxScheduledExports: z.number().int().min(0).max(1000).default(10),
    /** Where call events go: agent desktop pop-ups and campaign engine wrap-ups. */
    webhooks: z
      .object({
        agentDesktopUrl: z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL' }).optional(),
        campaignEngineUrl: z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL' }).optional(),
      })
      .strict()
      .default({}),
    /**
     * HMAC-SHA256 key for webhook signatures; write-only through the API, never logged. Stored
     * encrypted (src/notify/webhook-secret.ts), so longer than the 16-256 characters given; a plain
     * value from an earlier version is still read.
     */
    webhookSecret: z.string().min(16, 'at least 16 characters').max(1024).optional(),
    /** Webhook URLs without a secret send unsigned webhooks only when the tenant chose so here. */
    unsignedWebhooks: z.boolean().default(false),
    /** Let webhooks go to loopback / private addresses (off: such targets are refused, against SSRF). */
    allowPrivateWebhookTargets: z.boolean().default(false),
    /** Admin changes are kept in the audit trail this many days at most. */
    auditRetentionDays: z.number().int().min(1).max(3650).default(90),
    /** And at most this many entries (the oldest go first). */
    auditMaxEntries: z.number().int().min(1000).max(10_000_000).default(1_000_000),
    /** Event types switched off: neither sent as webhooks nor published to the event stream. */
    disabledEvents: z.array(notifyEventTypeSchema).default([]),
  })
  .strict();

export type TenantParams = z.infer<typeof tenantParamsSchema>;

/**
 * Parameters only the operator sets (system key, PATCH /v1/tenants/{tenantId}/params): they guard the
 * server, not the tenant's own data, so a tenant key sees them read-only.
 */
export const OPERATOR_PARAMS = [
  'allowPrivateWebhookTargets',
  'scheduleLimit',
  'maxScheduledImports',
  'maxScheduledExports',
  'auditRetentionDays',
  'auditMaxEntries',
] as const satisfies ReadonlyArray<keyof TenantParams>;

export const DEFAULT_TENANT_PARAMS: TenantParams = tenantParamsSchema.parse({});

/** The stored form read back: fields this version does not know (a newer node wrote them) are kept. */
const storedParamsSchema = tenantParamsSchema.loose();

/**
 * Stored params, tolerant of another version's value. Fields this version does not know are kept
 * (an older node that writes params back does not drop them); a known field whose value this version
 * cannot read keeps its value from `fallback` (what the node had before, or the defaults), the other
 * fields still apply. Unreadable JSON as a whole yields `fallback`.
 */
export function readParams(
  json: string | null | undefined,
  fallback: TenantParams = DEFAULT_TENANT_PARAMS,
): TenantParams {
  if (!json) return fallback;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return fallback;
  }
  const whole = storedParamsSchema.safeParse(raw);
  if (whole.success) return whole.data as TenantParams;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fallback;
  const given = raw as Record<string, unknown>;
  const out: Record<string, unknown> = { ...given };
  for (const [name, field] of Object.entries(tenantParamsSchema.shape)) {
    const parsed = (field as z.ZodType).safeParse(given[name]);
    if (parsed.success) out[name] = parsed.data;
    else out[name] = (fallback as Record<string, unknown>)[name];
    if (out[name] === undefined) delete out[name];
  }
  return out as TenantParams;
}

/** The fields of `params` this version does not know, to write back with a new value. */
export function unknownParamFields(params: TenantParams): Record<string, unknown> {
  const known = tenantParamsSchema.shape as Record<string, unknown>;
  return Object.fromEntries(Object.entries(params).filter(([name]) => !(name in known)));
}

export function policyOf(params: TenantParams): NormalizationPolicy {
  return params.normalization;
}

export function handlingOf(params: TenantParams): CallHandlingSettings {
  return {
    hangupCause: params.hangupCause,
    blockWithoutType: params.blockWithoutType,
    failurePolicy: params.failurePolicy,
  };
}
