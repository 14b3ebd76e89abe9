import type { Logger } from '../log.js';
import { AuditRepository } from '../store/audit-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import type { ImportJobData, ImportResult } from './import-params.js';

/**
 * The audit trail's one summary of a finished import, however many rows it had: the job, the file
 * and the counts. The import's start is the entry of the key that started it (recorded by the API);
 * this one is the worker's, so its actor is the system, naming who started the job.
 */
export async function recordImportFinished(
  client: RedisClient,
  job: { id: string; data: ImportJobData },
  result: ImportResult,
  log: Logger,
): Promise<void> {
  const { tenant, source, params, startedBy } = job.data;
  try {
    await new AuditRepository(client).appendNow(tenant, {
      at: Date.now(),
      actor: { keyId: 'system', name: `import job (started by ${startedBy})`, role: 'system' },
      kind: 'import',
      action: 'finish',
      target: job.id,
      ous: [...(job.data.ous ?? (params.ou === undefined ? [] : [params.ou]))],
      after: {
        job: job.id,
        ...(source.kind === 'server'
          ? { source: 'file_server', serverId: source.serverId, path: source.path, fileName: source.fileName }
          : { source: 'upload' }),
        overrideRule: params.overrideRule,
        read: result.read,
        imported: result.imported,
        skipped: result.skipped,
        failed: result.failed,
        deleted: result.deleted,
      },
    });
  } catch (error) {
    // The import itself is done and in effect: a trail that could not be written is logged, not fatal.
    log.warn({ err: error }, 'the audit summary of the import could not be written');
  }
}
