import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { parseWebhookUrl } from '../../notify/target-guard.js';
import {
  DEFAULT_TENANT_PARAMS,
  OPERATOR_PARAMS,
  type TenantParams,
  tenantParamsSchema,
} from '../../store/tenant-params.js';
import { type ApiApp, type ApiDeps, secretsOf } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';

const shape = tenantParamsSchema.shape;
type Shape = typeof shape;

/** The webhook secret as given (it is stored encrypted, so longer). */
const webhookSecretInputSchema = z.string().min(16, 'at least 16 characters').max(256);

/** Every parameter optional and without its default: a PATCH changes only what it names. */
export const paramsPatchSchema = z
  .object(
    Object.fromEntries(
      Object.entries(shape).map(([k, s]) => {
        const inner = s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : (s as z.ZodType);
        return [k, k === 'webhookSecret' ? webhookSecretInputSchema.nullable().optional() : inner.optional()];
      }),
    ) as { [K in keyof Shape]: z.ZodOptional<z.ZodType<z.input<Shape[K]>>> },
  )
  .strict()
  .meta({
    id: 'TenantParamsPatch',
    description:
      'webhookSecret: null clears it. Webhook URLs need webhookSecret, or unsignedWebhooks: true to send them unsigned.',
  });

const WEBHOOK_FIELDS = ['webhooks', 'webhookSecret', 'unsignedWebhooks'] as const;

/**
 * What a params patch stores: the webhook secret sealed with the API's SecretBox, `null` as
 * "clear". Refuses (400, naming webhookSecret) a patch of the webhook fields that leaves URLs without
 * a secret and without the explicit unsigned choice: such a tenant would get nothing, silently.
 */
export function paramsToStore(
  deps: Pick<ApiDeps, 'secrets'>,
  current: TenantParams,
  body: Record<string, unknown>,
): Partial<TenantParams> {
  const patch: Record<string, unknown> = { ...body };
  if (patch.webhookSecret === null) patch.webhookSecret = undefined;
  // The rules a delivery applies to a URL, applied when it is set: a URL with a user name and
  // password would be refused at every delivery, and the password shown to every reader of params.
  const webhooks = (body.webhooks ?? {}) as Record<string, string | undefined>;
  for (const [name, url] of Object.entries(webhooks)) {
    if (url === undefined) continue;
    try {
      parseWebhookUrl(url);
    } catch (error) {
      throw cgError('CG_ERR_INPUT_INVALID', `webhooks.${name}: ${(error as Error).message}`);
    }
  }
  if (WEBHOOK_FIELDS.some((f) => f in body)) {
    const next = { ...current, ...patch } as TenantParams;
    const urls = next.webhooks?.agentDesktopUrl ?? next.webhooks?.campaignEngineUrl;
    if (urls !== undefined && next.webhookSecret === undefined && next.unsignedWebhooks !== true) {
      throw cgError(
        'CG_ERR_INPUT_INVALID',
        'webhookSecret: webhook URLs are set but no webhookSecret is: without one nothing would be delivered. Give webhookSecret (16-256 characters), or unsignedWebhooks: true to send webhooks without a signature',
        { issues: [{ path: 'webhookSecret', message: 'needed when webhook URLs are set' }] },
      );
    }
  }
  if (typeof patch.webhookSecret === 'string') {
    patch.webhookSecret = secretsOf(deps).seal(patch.webhookSecret);
  }
  return patch as Partial<TenantParams>;
}

/** For a tenant being created: its patch over the defaults. */
export const newTenantParams = (deps: Pick<ApiDeps, 'secrets'>, body: Record<string, unknown>) =>
  paramsToStore(deps, DEFAULT_TENANT_PARAMS, body);

/** Parameters as returned: the webhook secret is write-only, only whether one is set shows. */
export const paramsViewSchema = tenantParamsSchema
  .omit({ webhookSecret: true })
  .extend({ webhookSecretSet: z.boolean() })
  .meta({ id: 'TenantParams' });

export function paramsView(params: TenantParams): z.output<typeof paramsViewSchema> {
  const { webhookSecret, ...rest } = params;
  return { ...rest, webhookSecretSet: webhookSecret !== undefined };
}

/** A tenant key may not set an operator parameter: 403 naming the fields. */
function refuseOperatorParams(body: Record<string, unknown>): void {
  const fields = OPERATOR_PARAMS.filter((k) => k in body);
  if (fields.length === 0) return;
  throw cgError(
    'CG_ERR_FORBIDDEN',
    `${fields.join(', ')} ${fields.length === 1 ? 'is an operator parameter' : 'are operator parameters'}: only the system key sets ${fields.length === 1 ? 'it' : 'them'} (PATCH /v1/tenants/{tenantId}/params); a tenant key reads ${fields.length === 1 ? 'it' : 'them'} in GET /v1/params`,
    { fields },
  );
}

export function registerParamsRoutes(app: ApiApp, deps: ApiDeps): void {
  app.get(
    '/v1/params',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['params'],
        summary: "The tenant's parameters",
        response: { 200: paramsViewSchema, ...errorResponses },
      },
    },
    async (request) => paramsView(await deps.tenants.params(tenantOf(request).tenant)),
  );

  app.patch(
    '/v1/params',
    {
      config: { auth: 'params:manage' },
      schema: {
        tags: ['params'],
        summary: 'Change some parameters; the others keep their values',
        description: `Operator parameters (${OPERATOR_PARAMS.join(', ')}) are read-only here: 403.`,
        body: paramsPatchSchema,
        response: { 200: paramsViewSchema, ...errorResponses },
      },
    },
    async (request) => {
      refuseOperatorParams(request.body as Record<string, unknown>);
      const { tenant } = tenantOf(request);
      const current = await deps.tenants.params(tenant);
      const patch = paramsToStore(deps, current, request.body as Record<string, unknown>);
      const next = paramsView(await deps.tenants.setParams(tenant, patch));
      recordChange(deps, request.principal, tenant, {
        kind: 'params',
        action: 'update',
        target: tenant,
        before: paramsView(current),
        after: next,
      });
      return next;
    },
  );
}
