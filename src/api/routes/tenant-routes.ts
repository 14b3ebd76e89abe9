import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { apiKeyInputSchema, apiKeyRecordSchema } from '../../store/api-key-repository.js';
import { TENANT_ID } from '../../store/keys.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { errorResponses } from '../schemas.js';
import {
  newTenantParams,
  paramsPatchSchema,
  paramsToStore,
  paramsView,
  paramsViewSchema,
} from './params-routes.js';

export const tenantIdSchema = z
  .string()
  .regex(TENANT_ID, 'a tenant id: 1-64 characters of letters, digits, _ . -');

const tenantCreateSchema = z
  .object({
    id: tenantIdSchema,
    name: z.string().trim().min(1).max(128).optional(),
    params: paramsPatchSchema.optional(),
    withAdminKey: z
      .boolean()
      .default(false)
      .describe(
        "true: also create the tenant's first tenant_admin key and return it (once) as adminKey, as `callguard tenant create` does.",
      ),
  })
  .strict()
  .meta({ id: 'TenantCreate' });

const tenantSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.number().int() });
export const createdKeySchema = z
  .object({
    key: z.string().describe('The API key. Shown once: only its SHA-256 is stored.'),
    record: apiKeyRecordSchema,
  })
  .meta({ id: 'CreatedApiKey' });

/** System endpoints (CALLGUARD_SYSTEM_KEY): create tenants and their first admin keys. */
export function registerTenantRoutes(app: ApiApp, deps: ApiDeps): void {
  app.post(
    '/v1/tenants',
    {
      config: { auth: 'system' },
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant (system key)',
        body: tenantCreateSchema,
        response: {
          201: z.object({
            tenant: tenantSchema,
            params: paramsViewSchema,
            adminKey: createdKeySchema.optional().describe('Only with withAdminKey: true. Shown once.'),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { id, name, params, withAdminKey } = request.body;
      const stored = params === undefined ? undefined : newTenantParams(deps, params);
      const tenant = await deps.tenants.create(id, { name, params: stored });
      const view = paramsView(await deps.tenants.params(id));
      recordChange(deps, request.principal, id, {
        kind: 'tenant',
        action: 'create',
        target: id,
        after: { tenant, params: view },
      });
      const adminKey = withAdminKey
        ? await deps.keys.create(id, { role: 'tenant_admin', name: 'first admin' })
        : undefined;
      if (adminKey) {
        recordChange(deps, request.principal, id, {
          kind: 'key',
          action: 'create',
          target: adminKey.record.id,
          after: adminKey.record,
        });
      }
      // a key is in it, shown this once: no cache may keep it
      return reply.code(201).header('cache-control', 'no-store').send({ tenant, params: view, adminKey });
    },
  );

  app.get(
    '/v1/tenants',
    {
      config: { auth: 'system' },
      schema: {
        tags: ['tenants'],
        summary: 'List tenants (system key)',
        response: { 200: z.object({ items: z.array(tenantSchema) }), ...errorResponses },
      },
    },
    async () => ({ items: await deps.tenants.list() }),
  );

  app.post(
    '/v1/tenants/:tenantId/keys',
    {
      config: { auth: 'system' },
      schema: {
        tags: ['tenants'],
        summary: "Create a tenant's API key (system key)",
        params: z.object({ tenantId: tenantIdSchema }).strict(),
        body: apiKeyInputSchema,
        response: { 201: createdKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params;
      if (!(await deps.tenants.get(tenantId))) {
        throw cgError('CG_ERR_NOT_FOUND', `tenant "${tenantId}" does not exist`);
      }
      const created = await deps.keys.create(tenantId, request.body);
      recordChange(deps, request.principal, tenantId, {
        kind: 'key',
        action: 'create',
        target: created.record.id,
        after: created.record,
        ous: created.record.ous,
      });
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.patch(
    '/v1/tenants/:tenantId/params',
    {
      config: { auth: 'system' },
      schema: {
        tags: ['tenants'],
        summary: "Change a tenant's parameters, operator parameters included (system key)",
        params: z.object({ tenantId: tenantIdSchema }).strict(),
        body: paramsPatchSchema,
        response: { 200: paramsViewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.params;
      if (!(await deps.tenants.get(tenantId))) {
        throw cgError('CG_ERR_NOT_FOUND', `tenant "${tenantId}" does not exist`);
      }
      const current = await deps.tenants.params(tenantId);
      const patch = paramsToStore(deps, current, request.body as Record<string, unknown>);
      const next = paramsView(await deps.tenants.setParams(tenantId, patch));
      recordChange(deps, request.principal, tenantId, {
        kind: 'params',
        action: 'update',
        target: tenantId,
        before: paramsView(current),
        after: next,
      });
      return next;
    },
  );
}
