import type { Readable } from 'node:stream';
import { cgError } from '../domain/errors.js';
import type { Rule } from '../domain/rule.js';
import { expiresAtFor } from '../domain/validity.js';
import type { Logger } from '../log.js';
import { applyImportBatch } from '../store/job-scripts.js';
import { jobKeys, tenantKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { encodeRule } from '../store/rule-codec.js';
import { RuleRepository } from '../store/rule-repository.js';
import type { StoreOptions } from '../store/store-options.js';
import { policyOf } from '../store/tenant-params.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { csvLine } from './csv-writer.js';
import type { ImportCounts, ImportParams, ImportResult } from './import-params.js';
import { checkImportRow, importRowContext } from './import-row-checks.js';
import { asCsvError, utf8Guard, validateImportFile } from './import-validation.js';
import { cancelledFailure } from './job-cancel.js';
import { type RowError, readRulesCsv } from './rules-csv.js';

/** A row error as a line of the errors file (line, column, reason). */
const errorLine = (e: RowError) => csvLine([String(e.line), e.column, e.reason]).trimEnd();

/** Rows per import batch (one script call): small enough to keep Redis responsive between calls. */
export const IMPORT_BATCH = 1000;
/** Batches in flight on the connection (they still run in file order). */
export const IMPORT_IN_FLIGHT = 8;
/** Per-row errors kept for the errors file; the failed count goes on beyond it. */
export const MAX_KEPT_ERRORS = 100_000;

export interface ImportRun {
  readonly tenant: string;
  readonly jobId: string;
  readonly params: ImportParams;
  /** Whole-second time the job was created: rules' updatedAt, and the start of their validity. */
  readonly stamp: number;
  readonly limit: number;
  /** The OUs of the key that started the job, when it is limited to some. */
  readonly keyOus?: readonly string[];
  /** Opens the file from its start (called once to validate, once to import; again after a crash). */
  readonly open: () => Promise<Readable>;
  /** Told the counts while the import runs. */
  readonly onProgress?: (counts: ImportCounts) => Promise<void> | void;
  /** Who asked to cancel the job, if anyone (polled between batches). */
  readonly cancelled?: () => Promise<string | undefined>;
  readonly log: Logger;
}

/** A checked row of the file: the rule encoded for the import script, or the row's error. */
type CheckedRow =
  | { readonly line: number; readonly rule: string }
  | { readonly line: number; readonly error: RowError };

/**
 * Runs an import so that a crash at any point is resumed by running it again: each batch is applied
 * together with its progress mark (import-batch-3.lua), so after a restart the rows up to the mark are
 * skipped, not applied twice; the overwrite purge and the reload are idempotent steps after it. Call
 * nodes see none of it until the one reload change at the end.
 */
export class ImportRunner {
  private readonly rules: RuleRepository;

  constructor(
    private readonly client: RedisClient,
    storeOptions: StoreOptions,
    private readonly options: { readonly lockPollMs?: number } = {},
  ) {
    this.rules = new RuleRepository(client, storeOptions);
  }

  async run(run: ImportRun): Promise<ImportResult> {
    const k = jobKeys(run.tenant, run.jobId);
    const progress = await this.client.hgetall(k.progress);
    const phase = progress.phase ?? 'validate';
    if (phase === 'validate') {
      await this.stopIfCancelled(run);
      const { records, exceeded } = await validateImportFile(await run.open(), run.limit);
      if (exceeded) {
        throw cgError(
          'CG_ERR_LIMIT_EXCEEDED',
          `the file has more than ${run.limit.toLocaleString('en')} records (counted ${records.toLocaleString('en')} before stopping); nothing was imported. ${
            run.limit < 2_000_000
              ? 'Split the file, or import it from a file server (up to 2,000,000 records).'
              : 'Split the file into parts of at most 2,000,000 records.'
          }`,
          { limit: run.limit, counted: records },
        );
      }
      if (run.params.overrideRule === 'overwrite') await this.refuseIncompleteOverwrite(run);
      await this.stopIfCancelled(run);
      await this.client.hset(k.progress, 'phase', 'apply', 'total', String(records));
    }
    const lock = new SnapshotHold(
      this.client,
      run.tenant,
      `import:${run.jobId}`,
      this.options.lockPollMs ?? 100,
    );
    try {
      if (phase === 'validate' || phase === 'apply') {
        await lock.take();
        const stoppedBy = await this.apply(run, lock);
        if (stoppedBy) {
          // Cancelled between batches (never an overwrite-all, which cannot stop half-way): the rows
          // applied so far stay, and call nodes see exactly them through a reload. A retry resumes
          // after them (the phase stays "apply").
          await lock.release();
          await this.rules.publishReload(run.tenant, 'all');
          const c = await this.counts(run);
          throw cancelledFailure(
            stoppedBy,
            `the import stopped after ${c.read} rows: the ${c.imported} imported stay in effect, the rest of the file was not read`,
          );
        }
        await this.client.hset(
          k.progress,
          'phase',
          run.params.overrideRule === 'overwrite' ? 'purge' : 'reload',
        );
      }
      let deleted = Number(progress.deleted ?? 0);
      if ((await this.client.hget(k.progress, 'phase')) === 'purge') {
        await lock.take();
        deleted = await this.purgeScope(run);
        await this.client.hset(k.progress, 'phase', 'reload', 'deleted', String(deleted));
      }
      await lock.release();
      const reloadVersion = await this.rules.publishReload(
        run.tenant,
        run.params.overrideRule === 'overwrite' ? `ou:${run.params.ou}` : 'all',
      );
      await this.client.hset(k.progress, 'phase', 'done');
      await this.dropSeen(run);
      const counts = await this.counts(run);
      return {
        ...counts,
        deleted,
        errorsFile: counts.failed > 0,
        reloadVersion,
      };
    } finally {
      await lock.release();
    }
  }

  private async stopIfCancelled(run: ImportRun): Promise<void> {
    const by = await run.cancelled?.();
    if (by) throw cancelledFailure(by, 'nothing was imported');
  }

  async counts(run: Pick<ImportRun, 'tenant' | 'jobId'>): Promise<ImportCounts> {
    const h = await this.client.hgetall(jobKeys(run.tenant, run.jobId).progress);
    return {
      read: Number(h.read ?? 0),
      imported: Number(h.imported ?? 0),
      skipped: Number(h.skipped ?? 0),
      failed: Number(h.failed ?? 0),
    };
  }

  /**
   * The file's rows, read, given the job's defaults and checked as the API checks a rule (the key's
   * OUs, the catalog, the overwrite scope), in batches as the reader yields them.
   */
  private async *checkedRows(run: ImportRun): AsyncGenerator<CheckedRow[]> {
    const p = run.params;
    const policy = policyOf(await new TenantRepository(this.client).params(run.tenant));
    const context = await importRowContext(this.client, run.tenant, p, run.keyOus);
    const defaultExpiry = p.validity ? expiresAtFor(p.validity, run.stamp) : undefined;
    const source = await run.open();
    const guarded = source.pipe(utf8Guard());
    source.on('error', (e) => guarded.destroy(e));
    try {
      for await (const batch of readRulesCsv(guarded, { policy, now: run.stamp, withinFile: false })) {
        const out: CheckedRow[] = [];
        for (const row of batch) {
          if ('error' in row) {
            out.push(row);
            continue;
          }
          const rule = this.withDefaults(row.rule, p, defaultExpiry);
          const error = checkImportRow(rule, row.line, context);
          out.push(
            error
              ? { line: row.line, error }
              : { line: row.line, rule: encodeRule({ ...rule, updatedAt: run.stamp }) },
          );
        }
        yield out;
      }
    } catch (error) {
      throw asCsvError(error);
    } finally {
      source.destroy();
    }
  }

  /**
   * An overwrite deletes what the file does not hold, so it runs only on a file whose every row is
   * good (or with allowPartial): a first pass over the rows, before anything is written.
   */
  private async refuseIncompleteOverwrite(run: ImportRun): Promise<void> {
    const k = jobKeys(run.tenant, run.jobId);
    const kept: string[] = [];
    let failed = 0;
    let read = 0;
    for await (const batch of this.checkedRows(run)) {
      for (const row of batch) {
        read++;
        if (!('error' in row)) continue;
        failed++;
        if (kept.length < MAX_KEPT_ERRORS) kept.push(errorLine(row.error));
      }
    }
    if (failed === 0 || run.params.allowPartial) return;
    await this.client.del(k.errors);
    for (let i = 0; i < kept.length; i += 5000) await this.client.rpush(k.errors, ...kept.slice(i, i + 5000));
    await this.client.hset(k.progress, 'read', String(read), 'failed', String(failed));
    throw cgError(
      'CG_ERR_CSV_INVALID',
      `${failed.toLocaleString('en')} of ${read.toLocaleString('en')} rows have errors (listed in the errors file): an overwrite applies nothing and deletes nothing unless every row is good. Fix those rows, or import again with allowPartial to apply the good rows and delete the rest of the scope.`,
      { failed, read },
    );
  }

  /** Applies the file's rows after the progress mark; returns who cancelled it when it stopped early. */
  private async apply(run: ImportRun, lock: SnapshotHold): Promise<string | undefined> {
    const k = jobKeys(run.tenant, run.jobId);
    const mark = Number((await this.client.hget(k.progress, 'line')) ?? 0);
    const p = run.params;
    const overwrite = p.overrideRule === 'overwrite';
    const mode = p.overrideRule === 'skip' ? 'skip' : 'override';
    const totals = await this.counts(run);
    const inFlight: Array<Promise<unknown>> = [];
    let lastReport = 0;

    let rules: string[] = [];
    let lines: number[] = [];
    let errors: string[] = [];
    let first = 0;
    let last = 0;
    let read = 0;
    let stoppedBy: string | undefined;
    const flush = async () => {
      if (read === 0) return;
      const batch = { first, last, read, errors, rules, lines };
      rules = [];
      lines = [];
      errors = [];
      read = 0;
      first = 0;
      inFlight.push(
        applyImportBatch(this.client, run.tenant, run.jobId, batch, {
          mode,
          keepErrors: MAX_KEPT_ERRORS,
          trackSeen: overwrite,
          ...(run.keyOus ? { keyOus: run.keyOus } : {}),
        }).then(({ applied, imported, skipped, refused }) => {
          if (applied === -1) {
            throw cgError(
              'CG_ERR_CONFLICT',
              `lines ${batch.first}-${batch.last} overlap a batch applied before`,
            );
          }
          if (applied === 1) {
            totals.read += batch.read;
            totals.failed += batch.errors.length + refused;
            totals.imported += imported;
            totals.skipped += skipped;
          }
        }),
      );
      if (inFlight.length >= IMPORT_IN_FLIGHT) await inFlight.shift();
      if (Date.now() - lastReport >= 500) {
        lastReport = Date.now();
        await lock.refresh();
        await run.onProgress?.({ ...totals });
      }
      if (!overwrite) stoppedBy ??= await run.cancelled?.();
    };

    try {
      for await (const batch of this.checkedRows(run)) {
        for (const row of batch) {
          if (row.line <= mark) continue;
          if (first === 0) first = row.line;
          last = row.line;
          read++;
          if ('error' in row) errors.push(errorLine(row.error));
          else {
            rules.push(row.rule);
            lines.push(row.line);
          }
          if (read >= IMPORT_BATCH) await flush();
          if (stoppedBy) break;
        }
        if (stoppedBy) break;
      }
      if (!stoppedBy) await flush();
      for (const pending of inFlight.splice(0)) await pending;
    } catch (error) {
      await Promise.allSettled(inFlight.splice(0));
      throw error;
    }
    await run.onProgress?.({ ...totals });
    return stoppedBy;
  }

  /** Fills the job's defaults into a row's rule (fresh from the reader: changed in place). */
  private withDefaults(r: Rule, p: ImportParams, defaultExpiry: number | undefined): Rule {
    if (r.ou === undefined && p.ou !== undefined) r.ou = p.ou;
    if (r.groupId === undefined && p.groupId !== undefined) r.groupId = p.groupId;
    if (r.typeId === undefined && p.typeId !== undefined) r.typeId = p.typeId;
    if (r.expiresAt === undefined && defaultExpiry !== undefined) r.expiresAt = defaultExpiry;
    return r;
  }

  /** Deletes the rules of the overwrite scope that the file did not write or match. Idempotent. */
  private purgeScope(run: ImportRun): Promise<number> {
    return this.rules.purgeUnseen(run.tenant, run.jobId, { ou: run.params.ou!, groupId: run.params.groupId });
  }

  private async dropSeen(run: ImportRun): Promise<void> {
    if (run.params.overrideRule !== 'overwrite') return;
    await this.rules.dropSeen(run.tenant, run.jobId, run.params.ou!);
  }
}

/**
 * Holds the tenant's snapshot lock while an import writes, so that no node builds a snapshot of half
 * an import in the meantime; nodes pick the import up from the one reload change at the end.
 */
class SnapshotHold {
  private held = false;

  /** The token names the job, so a job resumed after its worker died takes its own lock back at once. */
  constructor(
    private readonly client: RedisClient,
    private readonly tenant: string,
    private readonly token: string,
    private readonly pollMs: number,
  ) {}

  private async tryTake(): Promise<boolean> {
    const key = tenantKeys(this.tenant).snapshotLock;
    if ((await this.client.set(key, this.token, 'PX', 120_000, 'NX')) === 'OK') return true;
    if ((await this.client.get(key)) !== this.token) return false;
    await this.client.pexpire(key, 120_000);
    return true;
  }

  /**
   * Takes the lock, however long a snapshot build (it reads the rules from before the import) or
   * another import of the tenant holds it. Two imports applying side by side would each purge the
   * other's rows (an overwrite deletes every row of its scope it has not seen). A holder that dies
   * lets go when the lock expires, two minutes after its last refresh.
   */
  async take(): Promise<void> {
    while (!this.held) {
      this.held = await this.tryTake();
      if (!this.held) await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Keeps the lock; if it passed to another job (this one stalled past its expiry), stops the import. */
  async refresh(): Promise<void> {
    this.held = await this.tryTake();
    if (!this.held) {
      throw cgError(
        'CG_ERR_CONFLICT',
        "the tenant's import lock passed to another job while this import stalled for over two minutes; it stopped so that the two cannot delete each other's rows. Retry it",
      );
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const key = tenantKeys(this.tenant).snapshotLock;
    if ((await this.client.get(key)) === this.token) await this.client.del(key);
  }
}
