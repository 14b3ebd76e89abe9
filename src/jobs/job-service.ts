import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Job, Queue } from 'bullmq';
import { withinMs } from '../bounded.js';
import { cgError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../secret-box.js';
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
import { JobCancels } from './job-cancel.js';
import { type JobOus, jobVisible, withOus } from './job-ous.js';
import { ERRORS_FILE, EXPORT_FILE, parseFailure, UPLOAD_FILE } from './job-processors.js';
import { bullQueueConnectionFor, type JobKind, QUEUE_NAMES, QUEUE_PREFIX } from './job-queues.js';
import { type JobView, jobViewSchema } from './job-view.js';
import { checkFileName, checkRelativePath } from './remote-path.js';

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
  /** Where a queue's Redis errors go (debug: the API answers 503 and the sync reports the outage). */
  readonly log?: Logger;
  /** Runs of a job that failed on an outage before it fails for good (default 3). */
  readonly attempts?: number;
}

type AnyJobData = ImportJobData | ExportJobData;

/**
 * The one way into the bulk jobs for the API, the CLI and the scheduler: checks the request, stores an
 * uploaded file, queues the job and shows jobs in the task view. Workers run them (job-worker.ts).
 */
export class JobService {
  readonly queues: Record<JobKind, Queue<AnyJobData>>;
  readonly cancels: JobCancels;

  private readonly closeConnection: () => void;

  constructor(private readonly deps: JobServiceDeps) {
    const { connection, close } = bullQueueConnectionFor(deps.redisUrl, deps.cluster === true);
    this.closeConnection = close;
    this.cancels = new JobCancels(deps.client, deps.keepSeconds);
    // A failure of the input is an UnrecoverableError (no retry); a lost connection is retried, and
    // an import resumes from its progress mark.
    const defaultJobOptions = {
      attempts: deps.attempts ?? 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: deps.keepSeconds },
      removeOnFail: { age: deps.keepSeconds },
    };
    this.queues = {
      import: new Queue(QUEUE_NAMES.import, { connection, prefix: QUEUE_PREFIX, defaultJobOptions }),
      export: new Queue(QUEUE_NAMES.export, { connection, prefix: QUEUE_PREFIX, defaultJobOptions }),
    };
    // Without a listener, BullMQ prints every Redis error of an outage as a multi-line dump on stderr.
    for (const [kind, queue] of Object.entries(this.queues)) {
      queue.on('error', (error) =>
        deps.log?.debug({ err: error.message, queue: kind }, 'job queue: Redis error'),
      );
    }
  }

  /** Closes the queues; with Redis away their connections are dropped rather than left reconnecting. */
  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.queues).map(async (q) => {
        if (!(await withinMs(q.close(), 1_000).catch(() => false)))
          await q.disconnect().catch(() => undefined);
      }),
    );
    this.closeConnection();
  }

  private async enqueue(
    kind: JobKind,
    tenant: string,
    data: AnyJobData,
    jobId: string = randomUUID(),
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
    ous?: JobOus,
    keyOus?: readonly string[],
  ): Promise<string> {
    parseInput(importParamsSchema, params, 'import parameters');
    const jobId = await this.stageUpload(tenant, file);
    return this.submitStagedUpload(tenant, jobId, params, startedBy, ous, keyOus);
  }

  /**
   * Stores an uploaded file under a new job id and checks it, queueing nothing: a file of more than
   * 50,000 records, or one that is not a readable rules CSV, is refused and removed (so is what was
   * stored of a stream that failed). Then either submitStagedUpload queues it or discardUpload removes it.
   */
  async stageUpload(tenant: string, file: Readable): Promise<string> {
    const jobId = randomUUID();
    try {
      await pipeline(file, this.deps.files.writer(tenant, jobId, UPLOAD_FILE));
      const stored = await this.deps.files.reader(tenant, jobId, UPLOAD_FILE);
      const { records, exceeded } = await validateImportFile(stored!, UPLOAD_IMPORT_LIMIT);
      if (exceeded) {
        throw cgError(
          'CG_ERR_LIMIT_EXCEEDED',
          `the uploaded file has more than ${UPLOAD_IMPORT_LIMIT.toLocaleString('en')} records (counted ${records.toLocaleString('en')} before stopping); nothing was imported. Split the file, or import it from a file server (up to 2,000,000 records).`,
          { limit: UPLOAD_IMPORT_LIMIT, counted: records },
        );
      }
    } catch (error) {
      await this.discardUpload(tenant, jobId);
      throw error;
    }
    return jobId;
  }

  /** Queues the import of a file stored by stageUpload. */
  async submitStagedUpload(
    tenant: string,
    jobId: string,
    params: Partial<ImportParams>,
    startedBy: string,
    ous?: JobOus,
    keyOus?: readonly string[],
  ): Promise<string> {
    const data: ImportJobData = {
      kind: 'import',
      tenant,
      source: { kind: 'upload' },
      params: parseInput(importParamsSchema, params, 'import parameters'),
      startedBy,
      ...withOus(ous),
      ...(keyOus ? { keyOus: [...keyOus] } : {}),
    };
    return this.enqueue('import', tenant, data, jobId);
  }

  /** Removes a file stored by stageUpload that will not be imported. */
  async discardUpload(tenant: string, jobId: string): Promise<void> {
    await this.deps.files.remove(tenant, jobId, UPLOAD_FILE);
  }

  async submitServerImport(
    tenant: string,
    file: ServerFile,
    params: Partial<ImportParams>,
    startedBy: string,
    ous?: JobOus,
    keyOus?: readonly string[],
  ): Promise<string> {
    const data = await this.serverImportData(tenant, file, params, startedBy, undefined, ous, keyOus);
    return this.enqueue('import', tenant, data);
  }

  /** The checked job data of a server import (also the template of a scheduled one). */
  async serverImportData(
    tenant: string,
    file: ServerFile,
    params: Partial<ImportParams>,
    startedBy: string,
    scheduleId?: string,
    ous?: JobOus,
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
      ...withOus(ous),
    };
  }

  async submitExport(
    tenant: string,
    request: { filter?: ExportFilter; target: ExportTarget; password: string },
    startedBy: string,
    ous?: JobOus,
  ): Promise<string> {
    return this.enqueue('export', tenant, await this.exportData(tenant, request, startedBy, undefined, ous));
  }

  async exportData(
    tenant: string,
    request: { filter?: ExportFilter; target: ExportTarget; password: string },
    startedBy: string,
    scheduleId?: string,
    ous?: JobOus,
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
      ...withOus(ous),
    };
  }

  /**
   * A job of the tenant, when the caller may see it: `scope` is the caller's OUs (undefined: all), and
   * a job outside them is answered as missing (job-ous.ts).
   */
  private async job(
    tenant: string,
    kind: JobKind,
    id: string,
    scope?: ReadonlySet<string>,
  ): Promise<Job<AnyJobData> | undefined> {
    const job = await this.queues[kind].getJob(id);
    return job && job.data.tenant === tenant && jobVisible(scope, job.data.ous) ? job : undefined;
  }

  /** One job of the tenant's task view, by id (within the caller's OUs). */
  async get(tenant: string, id: string, scope?: ReadonlySet<string>): Promise<JobView | undefined> {
    for (const kind of ['import', 'export'] as const) {
      const job = await this.job(tenant, kind, id, scope);
      if (job) return this.view(tenant, kind, job);
    }
    return this.cancelledView(tenant, id, scope);
  }

  /** The task view row kept for a queued job that was cancelled (its queue no longer has it). */
  private async cancelledView(
    tenant: string,
    id: string,
    scope?: ReadonlySet<string>,
  ): Promise<JobView | undefined> {
    const json = await this.deps.client.get(jobKeys(tenant, id).cancelled);
    if (!json) return undefined;
    const parsed = jobViewSchema.safeParse(JSON.parse(json));
    return parsed.success && jobVisible(scope, parsed.data.ous) ? parsed.data : undefined;
  }

  /**
   * Cancels a job. A queued one (waiting, delayed for a retry, paused) leaves its queue at once and
   * shows as cancelled; nothing of it ran. A running one is asked to stop: it stops at its next batch
   * (within a second or so), the rows it applied stay in effect and call nodes see them (add and
   * override imports), and it shows as cancelled. An overwrite-all import that has started applying
   * cannot stop half-way (call nodes would see old and new rules mixed): refused. A finished job: refused.
   */
  async cancel(
    tenant: string,
    id: string,
    by: string,
    scope?: ReadonlySet<string>,
  ): Promise<{ view: JobView; running: boolean }> {
    for (const kind of ['import', 'export'] as const) {
      const job = await this.job(tenant, kind, id, scope);
      if (!job) continue;
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        throw cgError(
          'CG_ERR_CONFLICT',
          `job "${id}" has already ${state}; only a queued or running job can be cancelled`,
        );
      }
      await this.refuseHalfOverwrite(tenant, job);
      // Asked first: a job back in its queue after its worker stalled may still be running there.
      await this.cancels.request(tenant, id, by);
      if (state === 'active') return { view: await this.view(tenant, kind, job), running: true };
      const view = await this.view(tenant, kind, job);
      try {
        await job.remove();
      } catch {
        // A worker took it in the meantime: it stops at its next batch.
        return { view: await this.view(tenant, kind, job), running: true };
      }
      const cancelled: JobView = {
        ...view,
        state: 'cancelled',
        error: {
          code: 'CG_ERR_CONFLICT',
          message: job.processedOn
            ? `cancelled by ${by} while waiting to resume; what it applied before stays in effect`
            : `cancelled by ${by} before it started`,
        },
        finishedAt: Date.now(),
      };
      await this.deps.client.set(
        jobKeys(tenant, id).cancelled,
        JSON.stringify(cancelled),
        'EX',
        this.deps.keepSeconds,
      );
      return { view: cancelled, running: false };
    }
    const gone = await this.cancelledView(tenant, id, scope);
    if (gone) throw cgError('CG_ERR_CONFLICT', `job "${id}" is already cancelled`);
    throw cgError('CG_ERR_NOT_FOUND', `job "${id}" does not exist`);
  }

  /** An overwrite-all import that has begun replacing its scope runs to the end (DESIGN: never half). */
  private async refuseHalfOverwrite(tenant: string, job: Job<AnyJobData>): Promise<void> {
    const data = job.data;
    if (data.kind !== 'import' || data.params.overrideRule !== 'overwrite') return;
    const phase = await this.deps.client.hget(jobKeys(tenant, job.id!).progress, 'phase');
    if (phase && phase !== 'validate') {
      throw cgError(
        'CG_ERR_CONFLICT',
        `job "${job.id}" is an overwrite-all import that has started replacing the rules of its scope; it cannot stop half-way (call nodes would see old and new rules mixed), so it runs to the end`,
        { phase },
      );
    }
  }

  /** The task view: the tenant's jobs, newest first. */
  async list(
    tenant: string,
    options: { limit?: number; kind?: JobKind; scope?: ReadonlySet<string> } = {},
  ): Promise<JobView[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const members = await this.deps.client.zrevrange(bulkKeys(tenant).jobs, 0, limit * 2 - 1);
    const out: JobView[] = [];
    for (const m of members) {
      const cut = m.indexOf(':');
      // Ids of scheduled runs contain ':' themselves (repeat:<scheduler>:<time>).
      const kind = m.slice(0, cut) as JobKind;
      const id = m.slice(cut + 1);
      if (options.kind && kind !== options.kind) continue;
      const job = await this.job(tenant, kind, id, options.scope);
      const v = job
        ? await this.view(tenant, kind, job)
        : await this.cancelledView(tenant, id, options.scope);
      if (v) out.push(v);
      if (out.length >= limit) break;
    }
    return out;
  }

  private async view(tenant: string, kind: JobKind, read: Job<AnyJobData>): Promise<JobView> {
    const state = (await read.getState()) as JobView['state'];
    // The job was read before its state: one that finished in between has its final state and not yet
    // its outcome (error, result, finish time). BullMQ sets finishedOn with the state, in one script.
    const job =
      (state === 'completed' || state === 'failed') && read.finishedOn === undefined
        ? ((await this.queues[kind].getJob(read.id!)) ?? read)
        : read;
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
    const failure = state === 'failed' ? parseFailure(job.failedReason) : undefined;
    const error = failure ? { code: failure.code, message: failure.message } : undefined;
    return {
      id: job.id!,
      kind,
      state: failure?.cancelled ? 'cancelled' : state,
      ...(state === 'active' && (await this.cancels.requestedBy(tenant, job.id!))
        ? { cancelRequested: true }
        : {}),
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
      ...(data.ous ? { ous: [...data.ous] } : {}),
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
  async retry(tenant: string, id: string, scope?: ReadonlySet<string>): Promise<JobView> {
    for (const kind of ['import', 'export'] as const) {
      const job = await this.job(tenant, kind, id, scope);
      if (!job) continue;
      if ((await job.getState()) !== 'failed') {
        throw cgError('CG_ERR_CONFLICT', `job "${id}" has not failed; only a failed job can be retried`);
      }
      await this.deps.client.del(jobKeys(tenant, id).cancel);
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
      if (v.state === 'completed' || v.state === 'failed' || v.state === 'cancelled') return v;
      if (Date.now() > deadline) throw cgError('CG_ERR_UNAVAILABLE', `job "${id}" did not finish in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async errorsFile(tenant: string, id: string, scope?: ReadonlySet<string>): Promise<Readable | undefined> {
    if (!(await this.job(tenant, 'import', id, scope))) return undefined;
    return this.deps.files.reader(tenant, id, ERRORS_FILE);
  }

  async exportFile(tenant: string, id: string, scope?: ReadonlySet<string>): Promise<Readable | undefined> {
    if (!(await this.job(tenant, 'export', id, scope))) return undefined;
    return this.deps.files.reader(tenant, id, EXPORT_FILE);
  }
}
