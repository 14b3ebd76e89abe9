import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Job, Queue } from 'bullmq';
import { cgError } from '../domain/errors.js';
import type { FileServerRepository } from '../store/file-server-repository.js';
import { parseInput } from '../store/hash-objects.js';
import type { JobFileStore } from '../store/job-files.js';
import { bulkKeys, jobKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import {
  type ExportFilter,
  type ExportJobData,
  type ExportTarget,
  exportFilterSchema,
  exportTargetSchema,
} from './export-params.js';
import { checkExportPassword } from './export-password.js';
import {
  type ImportJobData,
  type ImportParams,
  importParamsSchema,
  type ServerFile,
  serverFileSchema,
  UPLOAD_IMPORT_LIMIT,
} from './import-params.js';
import { validateImportFile } from './import-validation.js';
import { ERRORS_FILE, EXPORT_FILE, parseFailure, UPLOAD_FILE } from './job-processors.js';
import { bullConnectionFor, type JobKind, QUEUE_NAMES, QUEUE_PREFIX } from './job-queues.js';
import type { JobView } from './job-view.js';
import { checkFileName, checkRelativePath } from './remote-path.js';
import type { SecretBox } from './secret-box.js';

export interface JobServiceDeps {
  readonly redisUrl: string;
  /** REDIS_URL is a seed node of a Redis Cluster. */
  readonly cluster?: boolean;
  readonly client: RedisClient;
  readonly files: JobFileStore;
  readonly fileServers: FileServerRepository;
  readonly secrets: SecretBox;
  /** Finished jobs are kept this long (seconds) in the task view. */
  readonly keepSeconds: number;
}

type AnyJobData = ImportJobData | ExportJobData;

/**
 * The one way into the bulk jobs for the API, the CLI and the scheduler: checks the request, stores an
 * uploaded file, queues the job and shows jobs in the task view. Workers run them (job-worker.ts).
 */
export class JobService {
  readonly queues: Record<JobKind, Queue<AnyJobData>>;

  private readonly closeConnection: () => void;

  constructor(private readonly deps: JobServiceDeps) {
    const { connection, close } = bullConnectionFor(deps.redisUrl, deps.cluster === true);
    this.closeConnection = close;
    // A failure of the input is an UnrecoverableError (no retry); a lost connection is retried, and
    // an import resumes from its progress mark.
    const defaultJobOptions = {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: deps.keepSeconds },
      removeOnFail: { age: deps.keepSeconds },
    };
    this.queues = {
      import: new Queue(QUEUE_NAMES.import, { connection, prefix: QUEUE_PREFIX, defaultJobOptions }),
      export: new Queue(QUEUE_NAMES.export, { connection, prefix: QUEUE_PREFIX, defaultJobOptions }),
    };
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.closeConnection();
  }

  private async enqueue(
    kind: JobKind,
    tenant: string,
    data: AnyJobData,
    jobId = randomUUID(),
  ): Promise<string> {
    await this.queues[kind].add(kind, data, { jobId });
    await this.track(tenant, kind, jobId);
    return jobId;
  }

  /** Records a job in the tenant's task view (scheduled runs are recorded by the worker that picks them up). */
  async track(tenant: string, kind: JobKind, jobId: string, at = Date.now()): Promise<void> {
    const key = bulkKeys(tenant).jobs;
    await this.deps.client.zadd(key, 'NX', at, `${kind}:${jobId}`);
    await this.deps.client.zremrangebyscore(key, '-inf', at - this.deps.keepSeconds * 1000);
  }

  /**
   * Stores an uploaded file and queues its import. A file of more than 50,000 records, or one that is
   * not a readable rules CSV, is refused here and nothing is queued.
   */
  async submitUploadImport(
    tenant: string,
    file: Readable,
    params: Partial<ImportParams>,
    startedBy: string,
    keyOus?: readonly string[],
  ): Promise<string> {
    const p = parseInput(importParamsSchema, params, 'import parameters');
    const jobId = randomUUID();
    await pipeline(file, this.deps.files.writer(tenant, jobId, UPLOAD_FILE));
    const stored = await this.deps.files.reader(tenant, jobId, UPLOAD_FILE);
    try {
      const { records, exceeded } = await validateImportFile(stored!, UPLOAD_IMPORT_LIMIT);
      if (exceeded) {
        throw cgError(
          'CG_ERR_LIMIT_EXCEEDED',
          `the uploaded file has more than ${UPLOAD_IMPORT_LIMIT.toLocaleString('en')} records (counted ${records.toLocaleString('en')} before stopping); nothing was imported. Split the file, or import it from a file server (up to 2,000,000 records).`,
          { limit: UPLOAD_IMPORT_LIMIT, counted: records },
        );
      }
    } catch (error) {
      await this.deps.files.remove(tenant, jobId, UPLOAD_FILE);
      throw error;
    }
    const data: ImportJobData = {
      kind: 'import',
      tenant,
      source: { kind: 'upload' },
      params: p,
      startedBy,
      ...(keyOus ? { keyOus: [...keyOus] } : {}),
    };
    return this.enqueue('import', tenant, data, jobId);
  }

  async submitServerImport(
    tenant: string,
    file: ServerFile,
    params: Partial<ImportParams>,
    startedBy: string,
    keyOus?: readonly string[],
  ): Promise<string> {
    const data = await this.serverImportData(tenant, file, params, startedBy, undefined, keyOus);
    return this.enqueue('import', tenant, data);
  }

  /** The checked job data of a server import (also the template of a scheduled one). */
  async serverImportData(
    tenant: string,
    file: ServerFile,
    params: Partial<ImportParams>,
    startedBy: string,
    scheduleId?: string,
    keyOus?: readonly string[],
  ): Promise<ImportJobData> {
    const f = parseInput(serverFileSchema, file, 'file');
    checkRelativePath(f.path);
    checkFileName(f.fileName);
    if (!(await this.deps.fileServers.get(tenant, f.serverId))) {
      throw cgError('CG_ERR_NOT_FOUND', `file server "${f.serverId}" does not exist`);
    }
    return {
      kind: 'import',
      tenant,
      source: { kind: 'server', ...f },
      params: parseInput(importParamsSchema, params, 'import parameters'),
      startedBy,
      ...(keyOus ? { keyOus: [...keyOus] } : {}),
      ...(scheduleId ? { scheduleId } : {}),
    };
  }

  async submitExport(
    tenant: string,
    request: { filter?: ExportFilter; target: ExportTarget; password: string },
    startedBy: string,
  ): Promise<string> {
    return this.enqueue('export', tenant, await this.exportData(tenant, request, startedBy));
  }

  async exportData(
    tenant: string,
    request: { filter?: ExportFilter; target: ExportTarget; password: string },
    startedBy: string,
    scheduleId?: string,
  ): Promise<ExportJobData> {
    const password = checkExportPassword(request.password);
    const filter = parseInput(exportFilterSchema, request.filter ?? {}, 'filter');
    const target = parseInput(exportTargetSchema, request.target, 'target');
    if (target.mode === 'server') {
      checkRelativePath(target.path);
      checkFileName(target.fileName);
      if (!(await this.deps.fileServers.get(tenant, target.serverId))) {
        throw cgError('CG_ERR_NOT_FOUND', `file server "${target.serverId}" does not exist`);
      }
    }
    return {
      kind: 'export',
      tenant,
      filter,
      target,
      sealedPassword: this.deps.secrets.seal(password),
      startedBy,
      ...(scheduleId ? { scheduleId } : {}),
    };
  }

  private async job(tenant: string, kind: JobKind, id: string): Promise<Job<AnyJobData> | undefined> {
    const job = await this.queues[kind].getJob(id);
    return job && job.data.tenant === tenant ? job : undefined;
  }

  /** One job of the tenant's task view, by id. */
  async get(tenant: string, id: string): Promise<JobView | undefined> {
    for (const kind of ['import', 'export'] as const) {
      const job = await this.job(tenant, kind, id);
      if (job) return this.view(tenant, kind, job);
    }
    return undefined;
  }

  /** The task view: the tenant's jobs, newest first. */
  async list(tenant: string, options: { limit?: number; kind?: JobKind } = {}): Promise<JobView[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const members = await this.deps.client.zrevrange(bulkKeys(tenant).jobs, 0, limit * 2 - 1);
    const out: JobView[] = [];
    for (const m of members) {
      const cut = m.indexOf(':');
      // Ids of scheduled runs contain ':' themselves (repeat:<scheduler>:<time>).
      const kind = m.slice(0, cut) as JobKind;
      const id = m.slice(cut + 1);
      if (options.kind && kind !== options.kind) continue;
      const job = await this.job(tenant, kind, id);
      if (job) out.push(await this.view(tenant, kind, job));
      if (out.length >= limit) break;
    }
    return out;
  }

  private async view(tenant: string, kind: JobKind, job: Job<AnyJobData>): Promise<JobView> {
    const state = (await job.getState()) as JobView['state'];
    const progress = (typeof job.progress === 'object' ? job.progress : {}) as Record<string, number>;
    const stored = kind === 'import' ? await this.deps.client.hgetall(jobKeys(tenant, job.id!).progress) : {};
    const num = (v: string | number | undefined) => (v === undefined ? 0 : Number(v));
    const data = job.data;
    const errorsFile =
      kind === 'import' && (await this.deps.files.info(tenant, job.id!, ERRORS_FILE))
        ? `/v1/jobs/${job.id}/errors`
        : undefined;
    const resultFile =
      kind === 'export' && state === 'completed' && (await this.deps.files.info(tenant, job.id!, EXPORT_FILE))
        ? `/v1/exports/${job.id}/file`
        : undefined;
    const source =
      data.kind === 'import'
        ? { ...data.source, params: data.params }
        : { filter: data.filter, target: data.target };
    const error = state === 'failed' ? parseFailure(job.failedReason) : undefined;
    return {
      id: job.id!,
      kind,
      state,
      progress: {
        ...(stored.phase ? { phase: stored.phase } : {}),
        ...(stored.total ? { total: Number(stored.total) } : {}),
        read: num(stored.read ?? progress.read),
        imported: num(stored.imported ?? progress.imported),
        skipped: num(stored.skipped ?? progress.skipped),
        failed: num(stored.failed ?? progress.failed),
        exported: num(progress.exported),
      },
      ...(job.returnvalue ? { result: job.returnvalue as Record<string, unknown> } : {}),
      ...(error ? { error } : {}),
      ...(errorsFile ? { errorsFile } : {}),
      ...(resultFile ? { resultFile } : {}),
      startedBy: data.startedBy,
      ...(data.scheduleId ? { scheduleId: data.scheduleId } : {}),
      source: source as Record<string, unknown>,
      createdAt: job.timestamp,
      ...(job.processedOn ? { startedAt: job.processedOn } : {}),
      ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
      attempts: job.attemptsMade,
    };
  }

  /**
   * Runs a failed job again. An import resumes after the last batch it applied (its progress mark),
   * so a job that failed half-way (the file server went away) is completed, not doubled.
   */
  async retry(tenant: string, id: string): Promise<JobView> {
    for (const kind of ['import', 'export'] as const) {
      const job = await this.job(tenant, kind, id);
      if (!job) continue;
      if ((await job.getState()) !== 'failed') {
        throw cgError('CG_ERR_CONFLICT', `job "${id}" has not failed; only a failed job can be retried`);
      }
      await job.retry('failed');
      return this.view(tenant, kind, job);
    }
    throw cgError('CG_ERR_NOT_FOUND', `job "${id}" does not exist`);
  }

  /** Waits until a job completes or fails (the CLI, tests); polls the task view. */
  async waitFor(
    tenant: string,
    id: string,
    onView?: (v: JobView) => void,
    timeoutMs = 3_600_000,
  ): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.get(tenant, id);
      if (!v) throw cgError('CG_ERR_NOT_FOUND', `job "${id}" does not exist`);
      onView?.(v);
      if (v.state === 'completed' || v.state === 'failed') return v;
      if (Date.now() > deadline) throw cgError('CG_ERR_UNAVAILABLE', `job "${id}" did not finish in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async errorsFile(tenant: string, id: string): Promise<Readable | undefined> {
    if (!(await this.job(tenant, 'import', id))) return undefined;
    return this.deps.files.reader(tenant, id, ERRORS_FILE);
  }

  async exportFile(tenant: string, id: string): Promise<Readable | undefined> {
    if (!(await this.job(tenant, 'export', id))) return undefined;
    return this.deps.files.reader(tenant, id, EXPORT_FILE);
  }
}
