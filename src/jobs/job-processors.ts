import { type Readable, Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type Job, UnrecoverableError } from 'bullmq';
import { CallguardError, cgError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../secret-box.js';
import type { FileServerRepository } from '../store/file-server-repository.js';
import type { JobFileStore } from '../store/job-files.js';
import { jobKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { RuleRepository } from '../store/rule-repository.js';
import { type StoreOptions, wholeSeconds } from '../store/store-options.js';
import type { ExportJobData, ExportResult } from './export-params.js';
import { writeEncryptedExport } from './export-writer.js';
import {
  type ImportJobData,
  type ImportResult,
  SERVER_IMPORT_LIMIT,
  UPLOAD_IMPORT_LIMIT,
} from './import-params.js';
import { ImportRunner } from './import-runner.js';
import { recordImportFinished } from './job-audit.js';
import { cancelledFailure, type JobCancels } from './job-cancel.js';
import { SftpSession } from './sftp-session.js';

export const UPLOAD_FILE = 'upload.csv';
export const ERRORS_FILE = 'errors.csv';
export const EXPORT_FILE = 'export.zip';

export interface ProcessorDeps {
  readonly client: RedisClient;
  readonly files: JobFileStore;
  readonly fileServers: FileServerRepository;
  readonly secrets: SecretBox;
  readonly storeOptions: StoreOptions;
  readonly fileTtlSeconds: number;
  readonly log: Logger;
  /** Cancel requests of running jobs (looked at between batches). */
  readonly cancels?: JobCancels;
  /** Connect and per-operation timeout of file server sessions (ms). */
  readonly sftpTimeoutMs?: number;
}

/**
 * A CallguardError travels through BullMQ's failedReason as JSON. It is not retried when the input is
 * at fault (4xx) or when retrying cannot help (details.permanent: a file server that does not speak
 * SSH, a login refused); an outage is retried up to the job's attempts.
 */
export function asJobFailure(error: unknown): Error {
  const permanent =
    error instanceof CallguardError &&
    (error.details as { permanent?: unknown } | undefined)?.permanent === true;
  if (error instanceof CallguardError && (error.status < 500 || permanent)) {
    return new UnrecoverableError(JSON.stringify(error.toJSON()));
  }
  if (error instanceof CallguardError) return new Error(JSON.stringify(error.toJSON()));
  return error as Error;
}

export function parseFailure(
  reason: string | undefined,
): { code: string; message: string; cancelled?: true } | undefined {
  if (!reason) return undefined;
  try {
    const j = JSON.parse(reason) as { code?: string; message?: string; details?: { cancelled?: unknown } };
    if (typeof j.code === 'string' && typeof j.message === 'string')
      return {
        code: j.code,
        message: j.message,
        ...(j.details?.cancelled === true ? { cancelled: true } : {}),
      };
  } catch {}
  return { code: 'CG_ERR_INTERNAL', message: reason };
}

/** Opens a file on a file server as a stream that closes its SFTP connection when it ends. */
async function openServerFile(
  deps: ProcessorDeps,
  tenant: string,
  file: { serverId: string; path: string; fileName: string },
): Promise<Readable> {
  const session = await SftpSession.open(
    await deps.fileServers.target(tenant, file.serverId),
    deps.sftpTimeoutMs,
  );
  try {
    const stream = await session.openRead(file.path, file.fileName);
    stream.once('close', () => session.close());
    return stream;
  } catch (error) {
    session.close();
    throw error;
  }
}

export async function processImport(deps: ProcessorDeps, job: Job<ImportJobData>): Promise<ImportResult> {
  const { tenant, source, params } = job.data;
  const jobId = job.id!;
  const log = deps.log.child({ job: jobId, tenant, kind: 'import' });
  const runner = new ImportRunner(deps.client, deps.storeOptions);
  try {
    const result = await runner.run({
      tenant,
      jobId,
      params,
      ...(job.data.keyOus ? { keyOus: job.data.keyOus } : {}),
      stamp: wholeSeconds(job.timestamp),
      limit: source.kind === 'upload' ? UPLOAD_IMPORT_LIMIT : SERVER_IMPORT_LIMIT,
      open: async () => {
        if (source.kind === 'server') return openServerFile(deps, tenant, source);
        const r = await deps.files.reader(tenant, jobId, UPLOAD_FILE);
        if (!r)
          throw cgError(
            'CG_ERR_NOT_FOUND',
            'the uploaded file is gone (kept for CALLGUARD_JOB_FILE_TTL_HOURS)',
          );
        return r;
      },
      onProgress: (counts) => job.updateProgress({ ...counts }),
      ...(deps.cancels ? { cancelled: deps.cancels.poller(tenant, jobId) } : {}),
      log,
    });
    if (result.failed > 0) await writeErrorsFile(deps, tenant, jobId, result.failed);
    log.info({ ...result }, 'import finished');
    await recordImportFinished(deps.client, { id: jobId, data: job.data }, result, log);
    return result;
  } catch (error) {
    const counts = await runner.counts({ tenant, jobId });
    if (counts.failed > 0) await writeErrorsFile(deps, tenant, jobId, counts.failed).catch(() => undefined);
    throw asJobFailure(error);
  } finally {
    const k = jobKeys(tenant, jobId);
    await deps.client.expire(k.progress, deps.fileTtlSeconds);
    await deps.client.expire(k.errors, deps.fileTtlSeconds);
  }
}

/** The per-row errors (kept in Redis with each batch) as a CSV file: line, column, reason. */
async function writeErrorsFile(
  deps: ProcessorDeps,
  tenant: string,
  jobId: string,
  failed: number,
): Promise<void> {
  const k = jobKeys(tenant, jobId);
  const out = deps.files.writer(tenant, jobId, ERRORS_FILE);
  const done = finished(out);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  await write('line,column,reason\r\n');
  const kept = await deps.client.llen(k.errors);
  for (let from = 0; from < kept; from += 5000) {
    const lines = await deps.client.lrange(k.errors, from, from + 4999);
    await write(`${lines.join('\r\n')}\r\n`);
  }
  if (failed > kept) await write(`# ${failed - kept} more rows failed and are not listed\r\n`);
  out.end();
  await done;
}

/**
 * `{date}` and `{time}` in an export's file name become the run's UTC date (YYYYMMDD) and time
 * (HHMMSS), so that the runs of a scheduled export do not overwrite each other.
 */
export function expandFileName(name: string, at: number): string {
  const iso = new Date(at).toISOString();
  return name
    .replaceAll('{date}', iso.slice(0, 10).replaceAll('-', ''))
    .replaceAll('{time}', iso.slice(11, 19).replaceAll(':', ''));
}

export async function processExport(deps: ProcessorDeps, job: Job<ExportJobData>): Promise<ExportResult> {
  const { tenant, filter, target } = job.data;
  const jobId = job.id!;
  const log = deps.log.child({ job: jobId, tenant, kind: 'export' });
  const password = deps.secrets.open(job.data.sealedPassword);
  const rules = new RuleRepository(deps.client, deps.storeOptions);
  let session: SftpSession | undefined;
  try {
    let sink: { stream: Writable; commit: () => Promise<void> };
    if (target.mode === 'server') {
      session = await SftpSession.open(
        await deps.fileServers.target(tenant, target.serverId),
        deps.sftpTimeoutMs,
      );
      sink = await session.openWrite(target.path, expandFileName(target.fileName, job.timestamp));
    } else {
      await deps.files.remove(tenant, jobId, EXPORT_FILE);
      sink = { stream: deps.files.writer(tenant, jobId, EXPORT_FILE), commit: async () => {} };
    }
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    counter.pipe(sink.stream);
    const closed = finished(sink.stream);
    let lastReport = 0;
    const cancelled = deps.cancels?.poller(tenant, jobId);
    let cancelledBy: string | undefined;
    const { records, files } = await writeEncryptedExport(rules.scan(tenant), filter, password, counter, {
      onProgress: (n) => {
        if (cancelledBy) throw cancelledFailure(cancelledBy, 'no file was written');
        void cancelled?.().then((by) => {
          cancelledBy ??= by;
        });
        if (Date.now() - lastReport < 500) return;
        lastReport = Date.now();
        job.updateProgress({ exported: n }).catch(() => undefined); // Redis away: the next report says it
      },
    });
    await closed;
    await sink.commit();
    await job.updateProgress({ exported: records });
    log.info({ records, files, bytes }, 'export finished');
    return { records, files, bytes };
  } catch (error) {
    if (target.mode === 'download')
      await deps.files.remove(tenant, jobId, EXPORT_FILE).catch(() => undefined);
    throw asJobFailure(error);
  } finally {
    session?.close();
  }
}
