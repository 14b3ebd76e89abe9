import { z } from 'zod';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import type { TenantParams } from './tenant-params.js';
import { TenantRepository } from './tenant-repository.js';

/** What an admin change was made to. */
export const AUDIT_KINDS = [
  'tenant',
  'key',
  'params',
  'ou',
  'group',
  'type',
  'rule',
  'binding',
  'file_server',
  'schedule',
  'import',
  'export',
  'policy',
] as const;
export const auditKindSchema = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof auditKindSchema>;

export const auditActionSchema = z.enum(['create', 'update', 'delete', 'start', 'finish']);
export type AuditAction = z.infer<typeof auditActionSchema>;

/** Who made a change: an API key (its id and name, never the key) or the operator's system key. */
export const auditActorSchema = z
  .object({
    keyId: z.string().describe('The key id (first 16 hex characters of its hash), or "system".'),
    name: z.string().optional(),
    role: z.enum(['system', 'tenant_admin', 'agent']),
  })
  .strict();
export type AuditActor = z.infer<typeof auditActorSchema>;

/** One admin change as recorded: who, when, what, and the object before and after. */
export const auditEntryInputSchema = z
  .object({
    at: z.number().int().describe('When the change was made (epoch ms).'),
    actor: auditActorSchema,
    kind: auditKindSchema,
    action: auditActionSchema,
    target: z.string().describe('The id of the object changed (a rule id, a group id, a job id...).'),
    ous: z
      .array(z.string())
      .describe('The OUs the change touched: an agent limited to OUs sees only entries of its OUs.'),
    before: z.unknown().optional().describe('The object before the change (absent when created).'),
    after: z.unknown().optional().describe('The object after the change (absent when deleted).'),
  })
  .strict();
export type AuditEntryInput = z.infer<typeof auditEntryInputSchema>;

export const auditEntrySchema = auditEntryInputSchema
  .extend({ id: z.string().describe('The entry id: time-ordered, and the cursor of the next page.') })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export interface AuditLimits {
  /** Entries older than this are trimmed (ms). */
  readonly maxAgeMs: number;
  /** At most this many entries are kept (approximately: whole stream nodes are trimmed). */
  readonly maxEntries: number;
}

/** The trail's limits from the tenant's (operator) parameters. */
export const auditLimitsOf = (
  p: Pick<TenantParams, 'auditRetentionDays' | 'auditMaxEntries'>,
): AuditLimits => ({
  maxAgeMs: p.auditRetentionDays * 86_400_000,
  maxEntries: p.auditMaxEntries,
});

export interface AuditQuery {
  readonly kind?: AuditKind;
  readonly keyId?: string;
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, inclusive. */
  readonly to?: number;
  /** Only entries that touch one of these OUs (undefined: all entries). */
  readonly ous?: ReadonlySet<string>;
  readonly limit: number;
  /** The id of the last entry of the previous page (entries are listed newest first). */
  readonly cursor?: string;
}

/** Entries read per round trip while filtering, and the most one query reads. */
const READ_BATCH = 500;
const READ_MAX = 50_000;
const SECRET_FIELD = /secret|password|passphrase|privatekey/i;

/** Secrets never enter the trail: a field whose name says secret reads "[set]" (or stays absent). */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_FIELD.test(k) && v !== undefined ? '[set]' : redactSecrets(v),
    ]),
  );
}

function decode(id: string, fields: string[]): AuditEntry | undefined {
  const at = fields.indexOf('e');
  if (at < 0) return undefined;
  try {
    const parsed = auditEntryInputSchema.safeParse(JSON.parse(fields[at + 1] ?? ''));
    return parsed.success ? { id, ...parsed.data } : undefined;
  } catch {
    return undefined;
  }
}

function matches(e: AuditEntry, q: AuditQuery): boolean {
  if (q.kind !== undefined && e.kind !== q.kind) return false;
  if (q.keyId !== undefined && e.actor.keyId !== q.keyId) return false;
  if (q.from !== undefined && e.at < q.from) return false;
  if (q.to !== undefined && e.at > q.to) return false;
  if (q.ous !== undefined && !e.ous.some((ou) => q.ous?.has(ou))) return false;
  return true;
}

/**
 * The per-tenant audit trail: a Redis Stream of admin changes under the tenant's hash tag, trimmed
 * by count as it is written (MAXLEN ~, whole stream nodes at a time) and exactly by age at every write.
 */
export class AuditRepository {
  constructor(private readonly client: RedisClient) {}

  /** Appends entries of one tenant in one pipeline, then trims the stream to the limits. */
  async append(tenant: string, entries: readonly AuditEntryInput[], limits: AuditLimits, now: number) {
    const key = tenantKeys(tenant).audit;
    const pipe = this.client.pipeline();
    for (const entry of entries) {
      pipe.xadd(key, 'MAXLEN', '~', limits.maxEntries, '*', 'e', JSON.stringify(entry));
    }
    pipe.xtrim(key, 'MINID', `${Math.max(0, now - limits.maxAgeMs)}-0`);
    const results = (await pipe.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }

  /** Entries newest first, filtered; `next` is the cursor of the following page when there may be one. */
  async query(tenant: string, q: AuditQuery): Promise<{ items: AuditEntry[]; next?: string }> {
    const key = tenantKeys(tenant).audit;
    const items: AuditEntry[] = [];
    // Stream ids carry the time the entry was written, a few ms after `at`: read a second past `to`.
    let end = q.cursor === undefined ? (q.to === undefined ? '+' : `${q.to + 1000}`) : `(${q.cursor}`;
    const start = q.from === undefined ? '-' : `${Math.max(0, q.from)}`;
    for (let read = 0; read < READ_MAX; ) {
      const batch = (await this.client.xrevrange(key, end, start, 'COUNT', READ_BATCH)) as [
        string,
        string[],
      ][];
      read += batch.length;
      for (const [id, fields] of batch) {
        const entry = decode(id, fields);
        if (entry && matches(entry, q)) items.push(entry);
        if (items.length === q.limit) return { items, next: id };
      }
      if (batch.length < READ_BATCH) return { items };
      end = `(${batch[batch.length - 1]![0]}`;
    }
    // Read as much as one query may: the caller goes on from where this one stopped.
    return { items, next: end.slice(1) };
  }

  /**
   * Writes one entry now, within the tenant's limits: for writers outside the API's buffered path
   * (the CLI's operator changes, a worker's import summary), which wait for it. Secrets are redacted.
   */
  async appendNow(tenant: string, entry: AuditEntryInput): Promise<void> {
    const limits = auditLimitsOf(await new TenantRepository(this.client).params(tenant));
    await this.append(
      tenant,
      [
        {
          ...entry,
          ...(entry.before === undefined ? {} : { before: redactSecrets(entry.before) }),
          ...(entry.after === undefined ? {} : { after: redactSecrets(entry.after) }),
        },
      ],
      limits,
      Date.now(),
    );
  }

  async length(tenant: string): Promise<number> {
    return this.client.xlen(tenantKeys(tenant).audit);
  }
}
