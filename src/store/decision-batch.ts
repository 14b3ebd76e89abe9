import { type MinuteCell, queueStatsWrites } from './call-stats.js';
import { type AuditRecord, queueDecisionAppends } from './decision-log.js';
import { type HitCell, queueHitWrites } from './hit-counters.js';
import { throwPipelineErrors } from './pipeline-errors.js';
import type { RedisClient } from './redis-client.js';
import { prepareScripts } from './scripts.js';

/**
 * Writes one tenant's share of a call node's batch: its decision records to the audit stream and its
 * aggregated rule hits to the counters and its call counts to the dashboard's minute and hour
 * hashes, in one round trip (one pipeline; the tenant's keys share one
 * slot, so this also runs on Redis Cluster). Rejects when any part failed: the caller keeps the batch
 * and writes it again.
 */
export async function writeDecisionBatch(
  client: RedisClient,
  tenant: string,
  records: readonly AuditRecord[],
  hits: ReadonlyMap<number, HitCell> | undefined,
  streamMaxLen: number,
  minutes?: ReadonlyMap<number, MinuteCell>,
): Promise<void> {
  prepareScripts(client);
  const pipeline = client.pipeline();
  queueDecisionAppends(pipeline, tenant, records, streamMaxLen);
  if (hits) queueHitWrites(pipeline, tenant, hits);
  if (minutes) queueStatsWrites(pipeline, tenant, minutes);
  throwPipelineErrors(await pipeline.exec());
}
