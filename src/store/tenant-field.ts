import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';
import type { StoreOptions } from './store-options.js';

/**
 * Sets (or, with value '', deletes) one field of a tenant hash together with its change record
 * (set-field-3.lua), so the write reaches every call node through the tenant's change stream.
 * Returns the tenant's new version.
 */
export async function setTenantField(
  client: RedisClient,
  options: StoreOptions,
  tenant: string,
  write: { readonly hash: string; readonly field: string; readonly value: string },
  change: readonly (string | number)[],
): Promise<string> {
  const k = tenantKeys(tenant);
  return String(
    await runScript(
      client,
      'set-field-3',
      [write.hash, k.changes, k.version],
      [write.field, write.value, options.streamMaxLen, ...change],
    ),
  );
}
