import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { fileServerInputSchema, fileServerViewSchema } from '../../store/file-server-schemas.js';
import type { RouteModule } from '../app.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';

const view = fileServerViewSchema.meta({ id: 'FileServer' });
const idParams = z.object({ id: z.string().min(1).max(64) });

/** SFTP file servers for imports and exports; passwords and keys are write-only and stored sealed. */
export const fileServerRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    app.post(
      '/v1/file-servers',
      {
        config: { auth: 'servers:manage' },
        schema: {
          tags: ['file-servers'],
          summary: 'Register an SFTP file server (password or private key; root folder on the server)',
          body: fileServerInputSchema,
          response: { 201: view, ...errorResponses },
        },
      },
      async (request, reply) => {
        const tenant = tenantOf(request).tenant;
        const created = await jobs.fileServers.create(tenant, request.body);
        recordChange(deps, request.principal, tenant, {
          kind: 'file_server',
          action: 'create',
          target: created.id,
          after: created,
        });
        return reply.code(201).send(created);
      },
    );
    app.get(
      '/v1/file-servers',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['file-servers'],
          summary: 'File servers',
          response: { 200: z.object({ items: z.array(view) }), ...errorResponses },
        },
      },
      async (request) => ({ items: await jobs.fileServers.list(tenantOf(request).tenant) }),
    );
    app.get(
      '/v1/file-servers/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['file-servers'],
          summary: 'One file server',
          params: idParams,
          response: { 200: view, ...errorResponses },
        },
      },
      async (request) => {
        const s = await jobs.fileServers.get(tenantOf(request).tenant, request.params.id);
        if (!s) throw cgError('CG_ERR_NOT_FOUND', `file server "${request.params.id}" does not exist`);
        return s;
      },
    );
    app.delete(
      '/v1/file-servers/:id',
      {
        config: { auth: 'servers:manage' },
        schema: {
          tags: ['file-servers'],
          summary: 'Remove a file server',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const tenant = tenantOf(request).tenant;
        const before = await jobs.fileServers.get(tenant, request.params.id);
        if (!before || !(await jobs.fileServers.delete(tenant, request.params.id))) {
          throw cgError('CG_ERR_NOT_FOUND', `file server "${request.params.id}" does not exist`);
        }
        recordChange(deps, request.principal, tenant, {
          kind: 'file_server',
          action: 'delete',
          target: before.id,
          before,
        });
        return reply.code(204).send(null);
      },
    );
  };
