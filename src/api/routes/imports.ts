import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { validitySchema, validityUnitSchema } from '../../domain/validity.js';
import type { BulkJobs } from '../../jobs/bulk-jobs.js';
import {
  type ImportParams,
  importParamsSchema,
  serverFileSchema,
  UPLOAD_IMPORT_LIMIT,
} from '../../jobs/import-params.js';
import { importTemplateCsv } from '../../jobs/import-template.js';
import type { JobService } from '../../jobs/job-service.js';
import type { RouteModule } from '../app.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { bytesText } from '../http-errors.js';
import { errorResponses } from '../schemas.js';
import { assertWritableOu, keyOus, scopeOf } from '../tenant-context.js';

const accepted = z
  .object({ id: z.string(), state: z.string(), href: z.string() })
  .meta({ id: 'JobAccepted' });

const serverImportBody = importParamsSchema
  .and(serverFileSchema)
  .describe('Import from a file server: the file and the job parameters.');

/**
 * An upload's size and part limits. 64 MiB: 50,000 records of up to 8 KiB are far more; real files are
 * a few MB. Parts: one file, and each field at most once (checked by name as they arrive).
 */
const UPLOAD_LIMITS = { fileSize: 64 * 1024 * 1024, files: 1, fields: 20 };

const VALIDITY_JSON =
  'JSON such as {"value":30,"unit":"day"} (value a whole number 1-120, unit hour, day, month or year)';

/**
 * The fields of an upload besides its `file` part, as text; they become the job parameters (checked by
 * importParamsSchema). An empty field counts as not given.
 */
const uploadFields = {
  overrideRule: z.string(),
  ou: z.string(),
  groupId: z.string(),
  typeId: z.string(),
  validityValue: z
    .string()
    .regex(/^(?:[1-9]\d?|1[01]\d|120)$/, {
      error: (i) => `"${i.input}" is not accepted: a whole number 1-120`,
    })
    .transform(Number),
  validityUnit: validityUnitSchema,
  validity: z.string().transform((text, ctx) => {
    const parsed = validitySchema.safeParse(jsonOrUndefined(text));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not accepted: ${VALIDITY_JSON}` });
    return z.NEVER;
  }),
  allowPartial: z.enum(['true', 'false']).transform((v) => v === 'true'),
};
const ACCEPTED_PARTS = `accepted: one file part "file" (the CSV) and at most once each the fields ${Object.keys(uploadFields).join(', ')}`;

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const partNameSchema = z.enum(['file', ...Object.keys(uploadFields)], {
  error: (i) => `unknown field ${JSON.stringify(i.input)}; ${ACCEPTED_PARTS}`,
});

/** The upload's fields (names already checked as the parts arrived) → the job parameters. */
const uploadParamsSchema = z
  .object(uploadFields)
  .partial()
  .transform(({ validityValue: value, validityUnit: unit, validity, ...rest }, ctx) => {
    if (validity !== undefined && (value !== undefined || unit !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['validity'],
        message: 'give validity either as validityValue + validityUnit or as validity (JSON), not both',
      });
    } else if ((value === undefined) !== (unit === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [value === undefined ? 'validityValue' : 'validityUnit'],
        message:
          'validityValue and validityUnit go together: a whole number 1-120 and hour, day, month or year',
      });
    }
    const v = validity ?? (value !== undefined && unit !== undefined ? { value, unit } : undefined);
    return v === undefined ? rest : { ...rest, validity: v };
  })
  .pipe(importParamsSchema);

/** A 400 naming each field that is wrong and what it accepts. */
function inputError(issues: readonly z.core.$ZodIssue[], prefix = ''): Error {
  const text = issues.map((i) => {
    const where = [prefix, ...i.path].filter((p) => p !== '').join('.');
    return where === '' ? i.message : `${where}: ${i.message}`;
  });
  return cgError('CG_ERR_INPUT_INVALID', text.join('; '));
}

/** The plugin's errors for an upload with more parts than UPLOAD_LIMITS: a malformed request, not a large one. */
const PART_LIMIT_ERRORS: Record<string, string> = {
  FST_FILES_LIMIT: 'more than one file part',
  FST_FIELDS_LIMIT: `more than ${UPLOAD_LIMITS.fields} fields`,
  FST_PARTS_LIMIT: 'too many parts',
};

/**
 * Fails an upload's stream once it passes the size limit, so that staging it fails and nothing is
 * stored or queued. The parser may have reached the limit before the part is handed over.
 */
function failWhenTruncated(file: Readable & { truncated?: boolean }): void {
  const tooLarge = () =>
    file.destroy(
      cgError(
        'CG_ERR_PAYLOAD_TOO_LARGE',
        `the upload is larger than the ${bytesText(UPLOAD_LIMITS.fileSize)} accepted`,
      ),
    );
  if (file.truncated) tooLarge();
  else file.once('limit', tooLarge);
}

interface Upload {
  readonly fileName: string;
  readonly params: ImportParams;
}

/**
 * Reads the whole multipart request (its file stored as a staged upload, its fields checked as the job
 * parameters), then hands both to `submit`, which queues the job. Nothing is queued before the request
 * is read whole and valid, and a refusal at any point removes the staged file.
 */
async function submitUpload(
  request: FastifyRequest,
  service: JobService,
  tenant: string,
  submit: (jobId: string, upload: Upload) => Promise<string>,
): Promise<Upload & { id: string }> {
  const fields: Record<string, string> = {};
  const seen = new Set<string>();
  let staged: { jobId: string; fileName: string } | undefined;
  try {
    for await (const part of request.parts()) {
      const name = part.fieldname;
      const known = partNameSchema.safeParse(name);
      if (!known.success) throw inputError(known.error.issues);
      if (seen.has(name))
        throw cgError('CG_ERR_INPUT_INVALID', `field "${name}" is given twice; ${ACCEPTED_PARTS}`);
      seen.add(name);
      if ((part.type === 'file') !== (name === 'file')) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          name === 'file'
            ? '"file" must be a file part (the CSV, with a filename)'
            : `field "${name}" must be text, not a file; the CSV goes in part "file"`,
        );
      }
      if (part.type === 'field') {
        if (part.value !== '') fields[name] = String(part.value);
        continue;
      }
      const file = part.file;
      failWhenTruncated(file);
      staged = { jobId: await service.stageUpload(tenant, file), fileName: part.filename };
    }
    if (staged === undefined) {
      throw cgError('CG_ERR_INPUT_INVALID', `multipart upload without a file part; ${ACCEPTED_PARTS}`);
    }
    const parsed = uploadParamsSchema.safeParse(fields);
    if (!parsed.success) throw inputError(parsed.error.issues);
    const upload = { fileName: staged.fileName, params: parsed.data };
    return { id: await submit(staged.jobId, upload), ...upload };
  } catch (error) {
    if (staged !== undefined) await service.discardUpload(tenant, staged.jobId);
    const code = (error as { code?: string }).code;
    const tooMany = code === undefined ? undefined : PART_LIMIT_ERRORS[code];
    throw tooMany === undefined ? error : cgError('CG_ERR_INPUT_INVALID', `${tooMany}; ${ACCEPTED_PARTS}`);
  }
}

/**
 * POST /v1/imports: multipart (a `file` part and the job parameters as fields; at most 50,000 records,
 * refused at once above that) or JSON { serverId, path, fileName, ...parameters } for a file on a file
 * server (at most 2,000,000). GET /v1/imports/template: the CSV template.
 */
export const importRoutes =
  (jobs: BulkJobs): RouteModule =>
  (app, deps) => {
    void app.register(fastifyMultipart, { limits: UPLOAD_LIMITS });

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
            'Upload: multipart/form-data with one `file` part (the CSV) and, before or after it, at most once each the fields overrideRule (skip | override | overwrite), ou, groupId, typeId, validityValue (1-120) + validityUnit (hour | day | month | year) or validity as JSON ({"value":30,"unit":"day"}), allowPartial (true | false; overwrite: apply a file with row errors anyway). Another field, a field given twice or a second file is refused (400). The job is queued only once the whole request has been read and checked: a refused upload imports nothing. File server: JSON body.',
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
          const upload = await submitUpload(request, jobs.service, p.tenant, (jobId, { params }) => {
            assertWritableOu(scope, params.ou);
            return jobs.service.submitStagedUpload(p.tenant, jobId, params, startedBy, keyOus(p), rowOus);
          });
          id = upload.id;
          started = { source: 'upload', fileName: upload.fileName, ...upload.params };
        } else {
          const parsed = serverImportBody.safeParse(request.body ?? {});
          if (!parsed.success) throw inputError(parsed.error.issues, 'body');
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
