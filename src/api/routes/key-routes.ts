import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { apiKeyInputSchema, apiKeyViewSchema } from '../../store/api-key-repository.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { type Authenticator, tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { createdKeySchema } from './tenant-routes.js';

/** A tenant admin manages its tenant's keys (agents' keys with their OUs and permissions). */
export function registerKeyRoutes(app: ApiApp, deps: ApiDeps, auth: Authenticator): void {
  app.get(
    '/v1/keys',
    {
      config: { auth: 'tenant_admin' },
      schema: {
        tags: ['keys'],
        summary: "List the tenant's API keys (never the keys themselves), with expiry and last use",
        response: { 200: z.object({ items: z.array(apiKeyViewSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await deps.keys.list(tenantOf(request).tenant) }),
  );

  app.post(
    '/v1/keys',
    {
      config: { auth: 'tenant_admin' },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key; the key is in the response once',
        body: apiKeyInputSchema,
        response: { 201: createdKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request).tenant;
      // as for groups and rules: a key confined to an OU that does not exist would see nothing
      const missing: string[] = [];
      for (const ou of request.body.ous ?? []) if (!(await deps.catalog.getOu(tenant, ou))) missing.push(ou);
      if (missing.length > 0) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `body.ous: ${missing.map((ou) => `OU "${ou}"`).join(', ')} does not exist; create it first`,
        );
      }
      const created = await deps.keys.create(tenant, request.body);
      recordChange(deps, request.principal, tenant, {
        kind: 'key',
        action: 'create',
        target: created.record.id,
        after: created.record,
        ous: created.record.ous,
      });
      // the key is in it, shown this once: no cache may keep it
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.delete(
    '/v1/keys/:keyId',
    {
      config: { auth: 'tenant_admin' },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key',
        params: z
          .object({ keyId: z.string().regex(/^[0-9a-f]{16}$/, 'a key id: 16 hex characters') })
          .strict(),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request).tenant;
      const before = await deps.keys.get(tenant, request.params.keyId);
      if (!before || !(await deps.keys.revoke(tenant, request.params.keyId))) {
        throw cgError('CG_ERR_NOT_FOUND', `API key ${request.params.keyId} does not exist`);
      }
      auth.forget();
      recordChange(deps, request.principal, tenant, {
        kind: 'key',
        action: 'delete',
        target: before.id,
        before,
        ous: before.ous,
      });
      return reply.code(204).send(null);
    },
  );
}
