import { cgError } from '../domain/errors.js';

/**
 * Every Redis key callguard uses, built here and nowhere else. All of a tenant's keys share the hash
 * tag `{tenant}` so that Lua scripts and MULTI blocks touching several of them work on Redis Cluster
 * (one slot per tenant). The Lua scripts receive `prefix` (= tenantPrefix) and append the same
 * suffixes as below; the suffix constants are the contract between this file and src/store/lua.
 */
export const TENANT_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Rules per rule bucket (id >> RULE_BUCKET_BITS): small enough to stay a listpack hash. */
export const RULE_BUCKET_BITS = 7;
/** Ids per tag/expiry index bucket: within the default set-max-intset-entries (512). */
export const SET_BUCKET_BITS = 9;
/**
 * Texts per number-index bucket before it splits by the next character (mirrors SPLIT_AT in
 * rule-index.lua; checked every fourth add, so a bucket may pass it by a few).
 */
export const NUMBER_SPLIT_AT = 128;

export type TagDimension = 'g' | 't' | 'o';
export type NumberSide = 'c' | 'g';

export function assertTenantId(tenant: string): string {
  if (!TENANT_ID.test(tenant)) {
    throw cgError(
      'CG_ERR_INPUT_INVALID',
      `tenant id "${tenant}" is not valid; use 1-64 characters of letters, digits, _ . -`,
    );
  }
  return tenant;
}

export const tenantPrefix = (tenant: string): string => `cg:{${assertTenantId(tenant)}}:`;

/** The set of tenant ids. Global (its own slot): written after the tenant's own keys. */
export const TENANTS_KEY = 'cg:tenants';
/**
 * The tenants change stream (a tenant added or deleted) and its version key. The hash tag
 * `{cg:tenants}` hashes like TENANTS_KEY itself, so the set and the stream are one slot and one
 * script changes both (lua/announce-tenant-3.lua).
 */
export const TENANT_CHANGES_KEY = '{cg:tenants}:changes';
export const TENANT_VERSION_KEY = '{cg:tenants}:ver';

export function tenantKeys(tenant: string) {
  const p = tenantPrefix(tenant);
  return {
    prefix: p,
    /** Hash: name, createdAt, params (JSON). */
    tenant: `${p}tenant`,
    ous: `${p}ous`,
    groups: `${p}groups`,
    types: `${p}types`,
    /** Hash task → groups joined by \x1f. */
    bindings: `${p}bindings`,
    /** INCR counter of rule ids. */
    ruleSeq: `${p}seq`,
    /** The change stream; its entry id is the tenant's rules version. */
    changes: `${p}changes`,
    /** The id of the last change entry, chained into each entry so readers see gaps. */
    version: `${p}ver`,
    ruleBucket: (bucket: number) => `${p}r:${bucket}`,
    /** Number index: hash pattern text → ids, for the texts whose literal digits start with `prefix`. */
    numberBucket: (side: NumberSide, prefix: string) => `${p}n:${side}:${prefix}`,
    /** Set of the number-index prefixes that were split into one bucket per next character. */
    numberSplits: (side: NumberSide) => `${p}ns:${side}`,
    /** Intset of rule ids with this group / type / OU in one id bucket. */
    tagBucket: (dim: TagDimension, bucket: number, value: string) => `${p}x:${dim}:${bucket}:${value}`,
    /** Intset of the id buckets that hold rules with this group / type / OU. */
    tagDir: (dim: TagDimension, value: string) => `${p}xd:${dim}:${value}`,
    /** Intset of ids expiring within one hour, per id bucket. */
    expiryBucket: (hourStartSec: number, bucket: number) => `${p}e:${hourStartSec}:${bucket}`,
    /** Sorted set of expiry buckets ("hour:bucket") scored by the hour's start (epoch seconds). */
    expiryDir: `${p}ed`,
    /** Hash: gen, version, chunks, bytes, createdAt of the current snapshot. */
    snapshotPointer: `${p}snap`,
    snapshotChunk: (gen: number, index: number) => `${p}snap:${gen}:${index}`,
    snapshotGen: `${p}snap:gen`,
    snapshotLock: `${p}snap:lock`,
    /** Hash of the tenant's API keys: SHA-256 of the key → record JSON. */
    apiKeys: `${p}apikeys`,
    /** Hash: SHA-256 of an API key → when it was last used (epoch ms, written at most once a minute). */
    apiKeysUsed: `${p}apikeys:used`,
    /** Stream of admin changes (who, when, what, before/after), capped by age and count. */
    audit: `${p}audit`,
    /** Hash id → contact policy JSON. */
    policies: `${p}policies`,
    /** Hash task → the ids of its contact policies joined by \x1f. */
    taskPolicies: `${p}taskpol`,
    /** Hash bucket → attempts for one counting key (scope and number); expires with its longest window. */
    attempts: (countingKey: string) => `${p}att:${countingKey}`,
    attemptsPrefix: `${p}att:`,
    /** Stream of attempt batches (node, packed increments): how nodes learn of each other's attempts. */
    attemptLog: `${p}attlog`,
  };
}

export type TenantKeys = ReturnType<typeof tenantKeys>;

export const ruleBucketOf = (id: number): number => Math.floor(id / 2 ** RULE_BUCKET_BITS);

/** The literal digits a canonical pattern starts with ("anonymous" stays itself). Mirrors rule-index.lua. */
export function patternFixed(text: string): string {
  if (!text.startsWith('_')) return text;
  return text.slice(1).replace(/[!.]$/, '').replace(/X+$/, '');
}

/** Hash tag of the BullMQ queues: every queue key in one slot, so BullMQ's scripts run on Redis Cluster. */
export const JOB_QUEUE_PREFIX = 'cg:{jobs}';

/**
 * A bulk job's keys. They live in the tenant's slot so that an import batch, its progress counters,
 * its errors and its rule writes are one script. The suffixes after `job:<id>:` are used by
 * src/store/lua/import-batch-3.lua (`:progress` → `:seen:`).
 */
export function jobKeys(tenant: string, jobId: string) {
  const p = `${tenantPrefix(tenant)}job:${jobId}:`;
  return {
    progress: `${p}progress`,
    errors: `${p}errors`,
    /** Intset of rule ids this import wrote or matched, per 512-id bucket (overwrite all). */
    seenBucket: (bucket: number) => `${p}seen:${bucket}`,
    seenPattern: `${p}seen:*`,
    /** Hash: size, chunks, createdAt of a stored job file (upload, errors, export zip). */
    fileMeta: (name: string) => `${p}file:${name}`,
    fileChunk: (name: string, index: number) => `${p}file:${name}:${index}`,
    /** Who asked to cancel the job (a running job stops at its next batch). */
    cancel: `${p}cancel`,
    /** JSON of the task view row of a queued job that was cancelled (removed from its queue). */
    cancelled: `${p}cancelled`,
  };
}

export function bulkKeys(tenant: string) {
  const p = tenantPrefix(tenant);
  return {
    /** Hash id → file server JSON (secrets encrypted). */
    fileServers: `${p}fsrv`,
    /** Hash id → schedule JSON (export password encrypted). */
    schedules: `${p}sched`,
    /** Sorted set "kind:jobId" by creation time: the tenant's task view. */
    jobs: `${p}jobs`,
  };
}

/** ESL inbound mode: which node screens a parked channel (SET NX PX, short-lived; its own slot). */
export const eslClaimKey = (channelUuid: string): string => `cg:esl-claim:${channelUuid}`;

/**
 * The per-tenant keys of what src/notify records: published events, decisions, rule hits, dead
 * letters. Their suffixes do not collide with those of tenantKeys.
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

/** BullMQ prefix of the webhook queue: one hash tag so every key of the queue lives in one Redis Cluster slot. */
export const NOTIFY_QUEUE_PREFIX = '{cg-notify}';
export const WEBHOOK_QUEUE = 'webhooks';

/**
 * The keys of webhook ordering (src/store/webhook-lanes.ts). A lane is one agent's events for one
 * receiver (`<target>:<agent>`); all lanes of a tenant share its hash tag, so the lane scripts touch
 * them in one step on Redis Cluster.
 */
export function webhookLaneKeys(tenant: string) {
  const p = tenantPrefix(tenant);
  return {
    /** Hash lane → the job id that holds the lane (the one being delivered or retried). */
    holders: `${p}webhooks:holders`,
    /** Sorted set of the job ids waiting behind a lane's holder, by event order. */
    lane: (lane: string) => `${p}webhooks:lane:${lane}`,
    /** Sorted set of a receiver's lane holders that are failing, by when their next attempt is due (epoch ms). */
    failing: (target: string) => `${p}webhooks:failing:${target}`,
  };
}
