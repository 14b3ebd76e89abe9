import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { pipeScript } from './scripts.js';

/** One decision as the audit stream keeps it (what a call node records; see src/notify/decision-recorder.ts). */
export interface AuditRecord {
  readonly tenant: string;
  readonly at: number;
  readonly callId: string;
  readonly direction: string;
  readonly called: string;
  readonly calling: string;
  readonly task: string;
  readonly action: 'allow' | 'block';
  /** Winning rule id; 0 when none (tenant default or failure policy). */
  readonly rule: number;
  /** 'rule' | 'default' | 'failure-policy' | 'policy' (a contact policy refused a call the rules allow) */
  readonly basis: 'rule' | 'default' | 'failure-policy' | 'policy';
  readonly operation: string;
  readonly node: string;
  /** The call's agent (CALLGUARD_AGENT); '' when none. */
  readonly agent: string;
  /** The contact policy that refused the call, and why. */
  readonly policy?: { readonly id: string; readonly reason: string };
}

/** A decision read back from the audit stream. */
export interface LoggedDecision {
  /** Stream position; pass as `before` to page on. */
  readonly id: string;
  readonly at: string;
  readonly callId: string;
  readonly direction: string;
  readonly called: string;
  readonly calling: string;
  readonly task: string | null;
  readonly action: 'allow' | 'block';
  readonly ruleId: number | null;
  readonly basis: 'rule' | 'default' | 'failure-policy' | 'policy';
  readonly operation: string;
  readonly node: string;
  /** The agent of the call (CALLGUARD_AGENT); null when the channel named none. */
  readonly agent: string | null;
  /** Basis `policy`: the contact policy that refused the call, and why. */
  readonly policy?: { readonly id: string; readonly reason: string };
}

export interface DecisionQuery {
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, inclusive. */
  readonly until?: number;
  /** Page on from this position (older entries). */
  readonly before?: string;
  readonly limit?: number;
  /** Called or calling number equals this (normalised digits). */
  readonly number?: string;
  readonly action?: 'allow' | 'block';
  readonly direction?: 'inbound' | 'outbound';
  readonly ruleId?: number;
  readonly task?: string;
  readonly callId?: string;
  readonly agent?: string;
}

export interface DecisionPage {
  readonly items: LoggedDecision[];
  /** Older entries remain (pass as `before`); null when the window is exhausted. */
  readonly next: string | null;
  /** Entries looked at; filtering scans at most MAX_SCAN per request. */
  readonly scanned: number;
}

export const MAX_SCAN = 20_000;
/** How much later than its decision a record may be written and still be found by an `until` query. */
const LATE_WRITE_MS = 15 * 60_000;
/** Call nodes' clocks against Redis's. */
const CLOCK_SKEW_MS = 60_000;
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Separates the fields of a packed record; removed from values (channel variables could carry it). */
const SEP = '\x1f';
const clean = (v: string): string => (v.includes(SEP) ? v.replaceAll(SEP, '') : v);

/**
 * One decision as one stream field (`d`): at, call id, direction, called, calling, task, action,
 * rule, basis, operation, node, agent joined by \x1f. One field instead of eleven keeps the write cheap on
 * the node (the audit of every decision is batched through append-decisions-1.lua).
 */
export function packAuditRecord(r: AuditRecord): string {
  return [
    r.at,
    clean(r.callId),
    r.direction,
    clean(r.called),
    clean(r.calling),
    clean(r.task),
    r.action,
    r.rule,
    r.basis,
    r.operation,
    r.node,
    // Last: records written before agents were kept decode with no agent.
    clean(r.agent),
    // Trailing, and only for policy refusals: records written before them read the same.
    ...(r.policy ? [clean(r.policy.id), clean(r.policy.reason)] : []),
  ].join(SEP);
}

/** Records per script call: keeps each call's time in Redis short. */
const APPEND_CHUNK = 1000;

/**
 * Queues the appends of a tenant's records to its decision stream (lua/append-decisions-1.lua, up to
 * APPEND_CHUNK records a call) on a pipeline of a client prepared with prepareScripts.
 */
export function queueDecisionAppends(
  pipeline: unknown,
  tenant: string,
  records: readonly AuditRecord[],
  streamMaxLen: number,
): void {
  const key = notifyKeys(tenant).decisions;
  for (let i = 0; i < records.length; i += APPEND_CHUNK) {
    const packed = records.slice(i, i + APPEND_CHUNK).map(packAuditRecord);
    pipeScript(pipeline, 'append-decisions-1', [key], [streamMaxLen, ...packed]);
  }
}

export function decodeLoggedDecision([id, fields]: [string, string[]]): LoggedDecision {
  let packed = '';
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'd') packed = fields[i + 1]!;
  const [
    at = '',
    callId = '',
    direction = '',
    called = '',
    calling = '',
    task = '',
    action,
    rule = '0',
    basis,
    op,
    node,
    agent = '',
    policyId,
    reason,
  ] = packed.split(SEP);
  const ruleId = Number(rule);
  return {
    id,
    at: new Date(Number(at || id.split('-')[0])).toISOString(),
    callId,
    direction,
    called,
    calling,
    task: task || null,
    action: action === 'block' ? 'block' : 'allow',
    ruleId: ruleId > 0 ? ruleId : null,
    basis: (basis ?? 'rule') as LoggedDecision['basis'],
    operation: op ?? 'none',
    node: node ?? '',
    agent: agent || null,
    ...(policyId ? { policy: { id: policyId, reason: reason ?? '' } } : {}),
  };
}

/** Whether a decision passes a query's filters (the time window aside). */
export function matchesDecision(d: LoggedDecision, q: DecisionQuery): boolean {
  if (q.number !== undefined && d.called !== q.number && d.calling !== q.number) return false;
  if (q.action !== undefined && d.action !== q.action) return false;
  if (q.direction !== undefined && d.direction !== q.direction) return false;
  if (q.ruleId !== undefined && d.ruleId !== q.ruleId) return false;
  if (q.task !== undefined && d.task !== q.task) return false;
  if (q.callId !== undefined && d.callId !== q.callId) return false;
  if (q.agent !== undefined && d.agent !== q.agent) return false;
  return true;
}

/**
 * Reads a tenant's recent decisions (the capped stream `cg:{tenant}:decisions`), newest first. Stream
 * ids are write times, so since/until become the range bounds; other filters are applied while
 * scanning, at most MAX_SCAN entries per call (then `next` says where to go on).
 */
export class DecisionLog {
  constructor(private readonly client: RedisClient) {}

  async query(tenant: string, q: DecisionQuery = {}): Promise<DecisionPage> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const key = notifyKeys(tenant).decisions;
    // Stream ids are write times: a record lands a flush period after its decision, or later when it
    // waited out a Redis outage in the node's buffer. The id range is widened; `at` decides.
    let end = q.until !== undefined ? String(q.until + LATE_WRITE_MS) : '+';
    if (q.before !== undefined && STREAM_ID.test(q.before)) end = `(${q.before}`;
    const start = q.since !== undefined ? String(Math.max(0, q.since - CLOCK_SKEW_MS)) : '-';
    const items: LoggedDecision[] = [];
    let scanned = 0;
    let last: string | null = null;
    let exhausted = false;
    while (items.length < limit && scanned < MAX_SCAN) {
      const rows = (await this.client.xrevrange(
        key,
        end,
        start,
        'COUNT',
        Math.min(1000, MAX_SCAN - scanned),
      )) as Array<[string, string[]]>;
      if (rows.length === 0) {
        exhausted = true;
        break;
      }
      for (const row of rows) {
        scanned++;
        last = row[0];
        const d = decodeLoggedDecision(row);
        const at = Date.parse(d.at);
        if (
          (q.since === undefined || at >= q.since) &&
          (q.until === undefined || at <= q.until) &&
          matchesDecision(d, q)
        ) {
          items.push(d);
          if (items.length === limit) break;
        }
      }
      end = `(${last}`;
    }
    return { items, next: exhausted || last === null ? null : last, scanned };
  }
}
