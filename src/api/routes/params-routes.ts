import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { OPERATOR_PARAMS, type TenantParams, tenantParamsSchema } from '../../store/tenant-params.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';

const shape = tenantParamsSchema.shape;
type Shape = typeof shape;

/** Every parameter optional and without its default: a PATCH changes only what it names. */
export const paramsPatchSchema = z
  .object(
    Object.fromEntries(
      Object.entries(shape).map(([k, s]) => {
        const inner = s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : (s as z.ZodType);
        return [k, k === 'webhookSecret' ? inner.nullable().optional() : inner.optional()];
      }),
    ) as { [K in keyof Shape]: z.ZodOptional<z.ZodType<z.input<Shape[K]>>> },
  )
  .strict()
  .meta({ id: 'TenantParamsPatch', description: 'webhookSecret: null clears it.' });

/** Parameters as returned: the webhook secret is write-only, only whether one is set shows. */
export const paramsViewSchema = tenantParamsSchema
  .omit({ webhookSecret: true })
  .extend({ webhookSecretSet: z.boolean() })
  .meta({ id: 'TenantParams' });

export function paramsView(params: TenantParams): z.output<typeof paramsViewSchema> {
  const { webhookSecret, ...rest } = params;
  return { ...rest, webhookSecretSet: webhookSecret !== undefined };
}

/** A PATCH body as stored: webhookSecret null clears it. */
export function patchOf(body: unknown): Partial<TenantParams> {
  const patch: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  if (patch.webhookSecret === null) patch.webhookSecret = undefined;
  return patch as Partial<TenantParams>;
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
      const tenant = tenantOf(request).tenant;
      const before = paramsView(await deps.tenants.params(tenant));
      const next = paramsView(await deps.tenants.setParams(tenant, patchOf(request.body)));
      recordChange(deps, request.principal, tenant, {
        kind: 'params',
        action: 'update',
        target: tenant,
        before,
        after: next,
      });
      return next;
    },
  );
}
