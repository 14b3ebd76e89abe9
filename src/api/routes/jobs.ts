import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { jobViewSchema } from '../../jobs/job-view.js';
import type { RouteModule } from '../app.js';
import { tenantOf } from '../auth.js';
import { errorResponses, wholeNumberText } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';

const view = jobViewSchema.meta({ id: 'Job' });
const idParams = z.object({ id: z.string().min(1).max(128) });

/** The task view: every import and export, manual or scheduled, with state, counts and files. */
export const jobRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    app.get(
      '/v1/jobs',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['jobs'],
          summary: 'Imports and exports, newest first',
          querystring: z.object({
            kind: z.enum(['import', 'export']).optional(),
            limit: wholeNumberText(1, 500).default(50),
          }),
          response: { 200: z.object({ items: z.array(view) }), ...errorResponses },
        },
      },
      async (request) => {
        const p = tenantOf(request);
        return {
          items: await jobs.service.list(p.tenant, { ...request.query, scope: await scopeOf(deps, p) }),
        };
      },
    );
    app.get(
      '/v1/jobs/:id',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['jobs'],
          summary: 'One job',
          params: idParams,
          response: { 200: view, ...errorResponses },
        },
      },
      async (request) => {
        const p = tenantOf(request);
        const v = await jobs.service.get(p.tenant, request.params.id, await scopeOf(deps, p));
        if (!v) throw cgError('CG_ERR_NOT_FOUND', `job "${request.params.id}" does not exist`);
        return v;
      },
    );
    app.post(
      '/v1/jobs/:id/retry',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['jobs'],
          summary: 'Run a failed job again (an import resumes after the rows it applied)',
          params: idParams,
          response: { 200: view, ...errorResponses },
        },
      },
      async (request) => {
        const p = tenantOf(request);
        const scope = await scopeOf(deps, p);
        const v = await jobs.service.get(p.tenant, request.params.id, scope);
        if (!v) throw cgError('CG_ERR_NOT_FOUND', `job "${request.params.id}" does not exist`);
        const need = v.kind === 'import' ? 'rules:import' : 'rules:export';
        if (p.role !== 'tenant_admin' && !p.permissions.has(need)) {
          throw cgError('CG_ERR_FORBIDDEN', `retrying an ${v.kind} needs the ${need} permission`);
        }
        return jobs.service.retry(p.tenant, request.params.id, scope);
      },
    );
    app.post(
      '/v1/jobs/:id/cancel',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['jobs'],
          summary: 'Cancel a queued or running job',
          description:
            'A queued job leaves its queue at once (200, state cancelled). A running job is asked to stop at its next batch (202, cancelRequested; then state cancelled): the rows an add or override import applied stay in effect and call nodes see them. An overwrite-all import that has started replacing its scope cannot stop half-way: 409. A finished job: 409.',
          params: idParams,
          response: { 200: view, 202: view, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const scope = await scopeOf(deps, p);
        const v = await jobs.service.get(p.tenant, request.params.id, scope);
        if (!v) throw cgError('CG_ERR_NOT_FOUND', `job "${request.params.id}" does not exist`);
        const need = v.kind === 'import' ? 'rules:import' : 'rules:export';
        if (p.role !== 'tenant_admin' && !p.permissions.has(need)) {
          throw cgError('CG_ERR_FORBIDDEN', `cancelling an ${v.kind} needs the ${need} permission`);
        }
        const { view: after, running } = await jobs.service.cancel(
          p.tenant,
          request.params.id,
          `key:${p.keyId}`,
          scope,
        );
        return reply.code(running ? 202 : 200).send(after);
      },
    );
    app.get(
      '/v1/jobs/:id/errors',
      {
        config: { auth: 'any' },
        schema: {
          tags: ['jobs'],
          summary: "An import's per-row errors (CSV: line, column, reason)",
          params: idParams,
          response: errorResponses,
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const stream = await jobs.service.errorsFile(p.tenant, request.params.id, await scopeOf(deps, p));
        if (!stream) throw cgError('CG_ERR_NOT_FOUND', `job "${request.params.id}" has no errors file`);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="import-${request.params.id}-errors.csv"`)
          .send(stream as never);
      },
    );
  };

/** Every bulk-jobs route module. */
export async function bulkJobRoutes(jobs: BulkJobs): Promise<RouteModule[]> {
  const [{ importRoutes }, { exportRoutes }, { fileServerRoutes }, { scheduleRoutes }] = await Promise.all([
    import('./imports.js'),
    import('./exports.js'),
    import('./file-servers.js'),
    import('./schedules.js'),
  ]);
  return [
    importRoutes(jobs),
    exportRoutes(jobs),
    fileServerRoutes(jobs),
    scheduleRoutes(jobs),
    jobRoutes(jobs),
  ];
}
