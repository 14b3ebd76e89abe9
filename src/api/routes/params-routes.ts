import { z } from 'zod';
import { type TenantParams, tenantParamsSchema } from '../../store/tenant-params.js';
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
        body: paramsPatchSchema,
        response: { 200: paramsViewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const patch: Record<string, unknown> = { ...(request.body as Record<string, unknown>) };
      if (patch.webhookSecret === null) patch.webhookSecret = undefined;
      const tenant = tenantOf(request).tenant;
      const before = paramsView(await deps.tenants.params(tenant));
      const next = paramsView(await deps.tenants.setParams(tenant, patch as Partial<TenantParams>));
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
