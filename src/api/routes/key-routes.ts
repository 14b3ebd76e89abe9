import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { apiKeyInputSchema, apiKeyRecordSchema } from '../../store/api-key-repository.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
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
        summary: "List the tenant's API keys (never the keys themselves)",
        response: { 200: z.object({ items: z.array(apiKeyRecordSchema) }), ...errorResponses },
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
    async (request, reply) =>
      reply.code(201).send(await deps.keys.create(tenantOf(request).tenant, request.body)),
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
      if (!(await deps.keys.revoke(tenantOf(request).tenant, request.params.keyId))) {
        throw cgError('CG_ERR_NOT_FOUND', `API key ${request.params.keyId} does not exist`);
      }
      auth.forget();
      return reply.code(204).send(null);
    },
  );
}
