import { tenantPrefix } from '../store/keys.js';

/**
 * The Redis keys of src/notify. Built on the store's tenantPrefix, so every per-tenant key shares the
 * tenant's `{hash tag}` (one slot per tenant on Redis Cluster, pipelines stay in one slot). The
 * suffixes are chosen not to collide with those of src/store/keys.ts.
 */
export function notifyKeys(tenant: string) {
  const p = tenantPrefix(tenant);
  return {
    /** Stream of published events (capped): what `callguard events tail` and campaign engines read. */
    events: `${p}events`,
    /** Stream of decisions for audit (capped). */
    decisions: `${p}decisions`,
    /** Sorted set rule id → hit count. */
    hits: `${p}hits`,
    /** Sorted set rule id → last hit time (epoch ms), only ever raised (ZADD GT). */
    hitAt: `${p}hits:at`,
    /** Stream of webhook deliveries that used up their attempts (capped). */
    deadLetters: `${p}webhooks:dead`,
    /** Hash of one minute's call counts (s screened, b blocked); expires after STATS_MINUTE_TTL_S. */
    statsMinute: (minute: number) => `${p}stats:m:${minute}`,
    /**
     * Hash of one hour's counts: s screened, b blocked, r:<rule id> blocks per rule (r:0 blocks without
     * a rule), d:<event type> webhooks delivered, x:<event type> dead-lettered; expires after STATS_HOUR_TTL_S.
     */
    statsHour: (hour: number) => `${p}stats:h:${hour}`,
    /** Hash node name → JSON sync report of that call node for this tenant (node-reports.ts). */
    nodes: `${p}nodes`,
  };
}

/** BullMQ prefix: one hash tag so every key of the webhook queue lives in one Redis Cluster slot. */
export const NOTIFY_QUEUE_PREFIX = '{cg-notify}';
export const WEBHOOK_QUEUE = 'webhooks';
