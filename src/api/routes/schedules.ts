import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { scheduleInputSchema, scheduleViewSchema } from '../../jobs/schedule-schemas.js';
import type { RouteModule } from '../app.js';
import { type TenantPrincipal, tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';

const view = scheduleViewSchema.meta({ id: 'Schedule' });
const idParams = z.object({ id: z.string().min(1).max(64) });

function mayRun(p: TenantPrincipal, kind: 'import' | 'export'): void {
  const need = kind === 'import' ? 'rules:import' : 'rules:export';
  if (p.role !== 'tenant_admin' && !p.permissions.has(need)) {
    throw cgError('CG_ERR_FORBIDDEN', `scheduled ${kind}s need the ${need} permission`);
  }
}

/** Scheduled imports (from a file server) and exports (to one): cron + time zone; start, pause, delete. */
export const scheduleRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    app.post(
      '/v1/schedules',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['schedules'],
          summary:
            'Create a scheduled import or export (limits: tenant parameters maxScheduledImports / maxScheduledExports)',
          body: scheduleInputSchema,
          response: { 201: view, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        mayRun(p, request.body.kind);
        // A scheduled import's rows are checked against the creating key's OUs on every run.
        const scope = await scopeOf(deps, p);
        return reply
          .code(201)
          .send(
            await jobs.schedules.create(
              p.tenant,
              request.body,
              `key:${p.keyId}`,
              scope ? [...scope] : undefined,
            ),
          );
      },
    );
    app.get(
      '/v1/schedules',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['schedules'],
          summary: 'Scheduled tasks',
          response: { 200: z.object({ items: z.array(view) }), ...errorResponses },
        },
      },
      async (request) => ({ items: await jobs.schedules.list(tenantOf(request).tenant) }),
    );
    app.get(
      '/v1/schedules/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['schedules'],
          summary: 'One scheduled task',
          params: idParams,
          response: { 200: view, ...errorResponses },
        },
      },
      async (request) => jobs.schedules.get(tenantOf(request).tenant, request.params.id),
    );
    for (const action of ['start', 'pause'] as const) {
      app.post(
        `/v1/schedules/:id/${action}`,
        {
          config: { auth: 'any' },
          schema: {
            tags: ['schedules'],
            summary: `${action === 'start' ? 'Start' : 'Pause'} a scheduled task`,
            params: idParams,
            response: { 200: view, ...errorResponses },
          },
        },
        async (request) => {
          const p = tenantOf(request);
          mayRun(p, (await jobs.schedules.get(p.tenant, request.params.id)).kind);
          return jobs.schedules[action](p.tenant, request.params.id);
        },
      );
    }
    app.delete(
      '/v1/schedules/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['schedules'],
          summary: 'Delete a scheduled task',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        mayRun(p, (await jobs.schedules.get(p.tenant, request.params.id)).kind);
        await jobs.schedules.delete(p.tenant, request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
