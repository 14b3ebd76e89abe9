import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import { importParamsSchema, serverFileSchema, UPLOAD_IMPORT_LIMIT } from '../../jobs/import-params.js';
import { importTemplateCsv } from '../../jobs/import-template.js';
import type { RouteModule } from '../app.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { assertWritableOu, keyOus, scopeOf } from '../tenant-context.js';

/** Largest upload accepted (50,000 records of up to 8 KiB are far more; real files are a few MB). */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

const accepted = z
  .object({ id: z.string(), state: z.string(), href: z.string() })
  .meta({ id: 'JobAccepted' });

const serverImportBody = importParamsSchema
  .and(serverFileSchema)
  .describe('Import from a file server: the file and the job parameters.');

/** Multipart fields arrive as text; numbers and nested validity are read from their text here. */
function paramsFromFields(fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['overrideRule', 'ou', 'groupId', 'typeId'] as const) if (fields[k]) out[k] = fields[k];
  if (fields.allowPartial) out.allowPartial = fields.allowPartial === 'true';
  const value = fields.validityValue ?? fields['validity.value'];
  const unit = fields.validityUnit ?? fields['validity.unit'];
  if (fields.validity) {
    try {
      out.validity = JSON.parse(fields.validity);
    } catch {
      throw cgError('CG_ERR_INPUT_INVALID', 'validity: JSON such as {"value":30,"unit":"day"}');
    }
  } else if (value || unit) {
    out.validity = { value: Number(value), unit };
  }
  return out;
}

/**
 * POST /v1/imports: multipart (a `file` part and the job parameters as fields; at most 50,000 records,
 * refused at once above that) or JSON { serverId, path, fileName, ...parameters } for a file on a file
 * server (at most 2,000,000). GET /v1/imports/template: the CSV template.
 */
export const importRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    void app.register(fastifyMultipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20 } });

    app.get(
      '/v1/imports/template',
      {
        config: { auth: 'any' },
        schema: { tags: ['imports'], summary: 'The rules CSV import template', response: errorResponses },
      },
      async (_request, reply) =>
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="callguard-rules-template.csv"')
          .send(importTemplateCsv() as never),
    );

    app.post(
      '/v1/imports',
      {
        config: { auth: 'rules:import', bodyTypes: ['application/json', 'multipart/form-data'] },
        schema: {
          tags: ['imports'],
          summary: `Import rules: multipart upload (≤ ${UPLOAD_IMPORT_LIMIT.toLocaleString('en')} records) or a file on a file server (≤ 2,000,000)`,
          description:
            'Upload: multipart/form-data with a `file` part and fields overrideRule (skip | override | overwrite), ou, groupId, typeId, validityValue + validityUnit, allowPartial (overwrite: apply a file with row errors anyway). File server: JSON body.',
          response: { 202: accepted, ...errorResponses },
        },
      },
      async (request, reply) => {
        const p = tenantOf(request);
        const scope = await scopeOf(deps, p);
        const startedBy = `key:${p.keyId}`;
        // Every row is checked against the key's OUs by the worker (the job records them).
        const rowOus = scope === undefined ? undefined : [...scope];
        let id: string;
        let started: Record<string, unknown> = {};
        if (request.isMultipart()) {
          const fields: Record<string, string> = {};
          let jobId: string | undefined;
          for await (const part of request.parts()) {
            if (part.type === 'field') {
              fields[part.fieldname] = String(part.value);
              continue;
            }
            if (jobId !== undefined) throw cgError('CG_ERR_INPUT_INVALID', 'one file per import');
            const params = paramsFromFields(fields);
            assertWritableOu(scope, params.ou as string | undefined);
            const file = part.file as Readable;
            // Over the size limit: fail the stream so that nothing is stored or queued.
            file.once('limit', () =>
              file.destroy(
                cgError('CG_ERR_PAYLOAD_TOO_LARGE', `the upload is larger than ${MAX_UPLOAD_BYTES} bytes`),
              ),
            );
            jobId = await jobs.service.submitUploadImport(
              p.tenant,
              file,
              params,
              startedBy,
              keyOus(p),
              rowOus,
            );
            started = { source: 'upload', fileName: part.filename, ...params };
          }
          if (jobId === undefined) {
            throw cgError(
              'CG_ERR_INPUT_INVALID',
              'multipart upload without a file part: send the fields first, then the CSV as part "file"',
            );
          }
          id = jobId;
        } else {
          const parsed = serverImportBody.safeParse(request.body ?? {});
          if (!parsed.success) {
            throw cgError(
              'CG_ERR_INPUT_INVALID',
              parsed.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`).join('; '),
            );
          }
          const { serverId, path, fileName, ...params } = parsed.data;
          assertWritableOu(scope, params.ou);
          id = await jobs.service.submitServerImport(
            p.tenant,
            { serverId, path, fileName },
            params,
            startedBy,
            keyOus(p),
            rowOus,
          );
          started = { source: 'file_server', serverId, path, fileName, ...params };
        }
        // One entry for the whole import, however many rows it has (the job records its counts).
        recordChange(deps, p, p.tenant, {
          kind: 'import',
          action: 'start',
          target: id,
          after: { job: id, ...started },
          ous: typeof started.ou === 'string' ? [started.ou] : [],
        });
        return reply.code(202).send({ id, state: 'waiting', href: `/v1/jobs/${id}` });
      },
    );
  };
