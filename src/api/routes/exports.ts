import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { type ExportTarget, exportFilterSchema, exportTargetSchema } from '../../jobs/export-params.js';
import { EXPORT_PASSWORD_RULE } from '../../jobs/export-password.js';
import { serverFileSchema } from '../../jobs/import-params.js';
import type { RouteModule } from '../app.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { assertWritableOu, keyOus, scopeOf } from '../tenant-context.js';

const exportBody = z
  .object({
    filter: exportFilterSchema.default({}),
    file: serverFileSchema
      .optional()
      .describe(
        'Write the zip to this file on a file server, named as schedules and imports name it; leave out to download it.',
      ),
    target: exportTargetSchema
      .optional()
      .describe('Deprecated (kept for one release): use file, or leave it out for a download.')
      .meta({ deprecated: true }),
    password: z.string().max(64).describe(EXPORT_PASSWORD_RULE),
  })
  .strict()
  .refine((b) => !(b.file && b.target), {
    message: 'give file (a file server) or the deprecated target, not both',
    path: ['target'],
  });

/** The export's destination from either shape: file (current) or target (deprecated). */
const targetOf = (body: z.output<typeof exportBody>): ExportTarget =>
  body.file ? { mode: 'server', ...body.file } : (body.target ?? { mode: 'download' });

const accepted = z.object({ id: z.string(), state: z.string(), href: z.string() });

/**
 * POST /v1/exports: rules matching a filter into one AES-256 zip of CSV files (≤ 100,000 records
 * each, ≤ 2,000,000 in all), for download or to a file server. GET /v1/exports/{id}/file: the zip.
 */
export const exportRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    app.post(
      '/v1/exports',
      {
        config: { auth: 'rules:export' },
        schema: {
          tags: ['exports'],
          summary: 'Export rules to an encrypted zip (download or file server)',
          body: exportBody,
          response: { 202: accepted, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const scope = await scopeOf(deps, p);
        if (scope !== undefined) assertWritableOu(scope, request.body.filter.ou);
        const { filter, password } = request.body;
        const id = await jobs.service.submitExport(
          p.tenant,
          { filter, password, target: targetOf(request.body) },
          `key:${p.keyId}`,
          keyOus(p),
        );
        const { password: _secret, ...asked } = request.body as { password?: string };
        recordChange(deps, p, p.tenant, {
          kind: 'export',
          action: 'start',
          target: id,
          after: { job: id, ...asked },
          ous: filter.ou === undefined ? [] : [filter.ou],
        });
        return reply.code(202).send({ id, state: 'waiting', href: `/v1/jobs/${id}` });
      },
    );

    app.get(
      '/v1/exports/:id/file',
      {
        config: { auth: 'rules:export' },
        schema: {
          tags: ['exports'],
          summary: 'Download an export (the encrypted zip), while it is kept',
          params: z.object({ id: z.string().min(1).max(64) }),
          response: errorResponses,
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const stream = await jobs.service.exportFile(p.tenant, request.params.id, await scopeOf(deps, p));
        if (!stream) {
          throw cgError(
            'CG_ERR_NOT_FOUND',
            `export ${request.params.id} has no file: it is not finished, failed, went to a file server, or its keeping time ran out`,
          );
        }
        return reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="callguard-export-${request.params.id}.zip"`)
          .send(stream as never);
      },
    );
  };
