import { type AuditEntryInput, AuditRepository } from '../store/audit-repository.js';
import type { RedisClient } from '../store/redis-client.js';

/**
 * Changes made with the command line straight in Redis (tenant and key create, key revoke) are the
 * operator's: they go into the tenant's audit trail at once, as the system key's would.
 */
export function recordOperatorChange(
  client: RedisClient,
  tenant: string,
  change: Pick<AuditEntryInput, 'kind' | 'action' | 'target' | 'before' | 'after'> & { ous?: string[] },
): Promise<void> {
  const { ous, ...rest } = change;
  return new AuditRepository(client).appendNow(tenant, {
    at: Date.now(),
    actor: { keyId: 'system', name: 'callguard CLI', role: 'system' },
    ous: ous ?? [],
    ...rest,
  });
}
