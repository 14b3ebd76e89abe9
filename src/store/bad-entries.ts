import type { Logger } from '../log.js';
import { syncBadEntriesTotal } from '../metrics.js';

/**
 * Change entries a node could not decode: each counted in `callguard_sync_bad_entries_total` and
 * logged at error level once with its id (a node may meet the same entry again in a replay).
 */
export class BadEntries {
  private readonly seen = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Counts and logs the entry unless it was reported before. */
  report(id: string, reason: string, context: Record<string, unknown>, message: string): void {
    if (this.seen.has(id)) return;
    if (this.seen.size >= 1000) this.seen.clear();
    this.seen.add(id);
    syncBadEntriesTotal.inc();
    this.log.error({ ...context, entry: id, reason }, message);
  }
}
