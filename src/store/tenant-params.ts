import { z } from 'zod';
import type { NormalizationPolicy } from '../domain/number.js';
import { actionSchema, countrySchema } from '../domain/rule.js';
import { notifyEventTypeSchema } from '../notify/notify-event-types.js';
import type { CallHandlingSettings } from '../pbx/call-plan.js';

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
    /** Event types switched off: neither sent as webhooks nor published to the event stream. */
    disabledEvents: z.array(notifyEventTypeSchema).default([]),
  })
  .strict();

export type TenantParams = z.infer<typeof tenantParamsSchema>;

export const DEFAULT_TENANT_PARAMS: TenantParams = tenantParamsSchema.parse({});

/** Stored params, tolerant of an older or damaged value: anything unreadable falls back to the defaults. */
export function readParams(json: string | null | undefined): TenantParams {
  if (!json) return DEFAULT_TENANT_PARAMS;
  try {
    const parsed = tenantParamsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : DEFAULT_TENANT_PARAMS;
  } catch {
    return DEFAULT_TENANT_PARAMS;
  }
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
