import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { jobVisible } from '../../jobs/job-ous.js';
import { scheduleRequestSchema, scheduleViewSchema } from '../../jobs/schedule-schemas.js';
import type { RouteModule } from '../app.js';
import { recordChange } from '../audit.js';
import { type TenantPrincipal, tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { assertWritableOu, keyOus, scopeOf } from '../tenant-context.js';

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
    /** A schedule of the tenant within the caller's OUs; outside them it does not exist. */
    const visible = async (p: TenantPrincipal, id: string) => {
      const s = await jobs.schedules.get(p.tenant, id);
      if (!jobVisible(await scopeOf(deps, p), s.ous)) {
        throw cgError('CG_ERR_NOT_FOUND', `schedule "${id}" does not exist`);
      }
      return s;
    };
    app.post(
      '/v1/schedules',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['schedules'],
          summary:
            'Create a scheduled import or export (limits: tenant parameters maxScheduledImports / maxScheduledExports)',
          body: scheduleRequestSchema,
          response: { 201: view, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        mayRun(p, request.body.kind);
        const scope = await scopeOf(deps, p);
        const b = request.body;
        if (scope !== undefined) assertWritableOu(scope, b.kind === 'import' ? b.params?.ou : b.filter?.ou);
        // A scheduled import's rows are checked against the creating key's OUs on every run.
        const created = await jobs.schedules.create(
          p.tenant,
          b,
          `key:${p.keyId}`,
          keyOus(p),
          scope ? [...scope] : undefined,
        );
        recordChange(deps, p, p.tenant, {
          kind: 'schedule',
          action: 'create',
          target: created.id,
          after: created,
          ous: created.ous ?? [],
        });
        return reply.code(201).send(created);
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
      async (request) => {
        const p = tenantOf(request);
        const scope = await scopeOf(deps, p);
        return { items: (await jobs.schedules.list(p.tenant)).filter((s) => jobVisible(scope, s.ous)) };
      },
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
      async (request) => visible(tenantOf(request), request.params.id),
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
          const before = await visible(p, request.params.id);
          mayRun(p, before.kind);
          const after = await jobs.schedules[action](p.tenant, request.params.id);
          recordChange(deps, p, p.tenant, {
            kind: 'schedule',
            action: 'update',
            target: before.id,
            before,
            after,
            ous: before.ous ?? [],
          });
          return after;
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
        const before = await visible(p, request.params.id);
        mayRun(p, before.kind);
        await jobs.schedules.delete(p.tenant, request.params.id);
        recordChange(deps, p, p.tenant, {
          kind: 'schedule',
          action: 'delete',
          target: before.id,
          before,
          ous: before.ous ?? [],
        });
        return reply.code(204).send(null);
      },
    );
  };
