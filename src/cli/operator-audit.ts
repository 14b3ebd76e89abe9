import { type AuditEntryInput, AuditRepository, redactSecrets } from '../store/audit-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';

/**
 * Changes made with the command line straight in Redis (tenant and key create, key revoke) are the
 * operator's: they go into the tenant's audit trail at once, as the system key's would.
 */
export async function recordOperatorChange(
  client: RedisClient,
  tenant: string,
  change: Pick<AuditEntryInput, 'kind' | 'action' | 'target' | 'before' | 'after'> & { ous?: string[] },
): Promise<void> {
  const params = await new TenantRepository(client).params(tenant);
  const now = Date.now();
  await new AuditRepository(client).append(
    tenant,
    [
      {
        at: now,
        actor: { keyId: 'system', name: 'callguard CLI', role: 'system' },
        kind: change.kind,
        action: change.action,
        target: change.target,
        ous: change.ous ?? [],
        ...(change.before === undefined ? {} : { before: redactSecrets(change.before) }),
        ...(change.after === undefined ? {} : { after: redactSecrets(change.after) }),
      },
    ],
    { maxAgeMs: params.auditRetentionDays * 86_400_000, maxEntries: params.auditMaxEntries },
    now,
  );
}
