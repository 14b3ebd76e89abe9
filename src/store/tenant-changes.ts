import { ZERO_VERSION } from './change-stream.js';
import { TENANT_ID, TENANT_VERSION_KEY } from './keys.js';
import type { RedisClient } from './redis-client.js';

/**
 * One entry of the tenants change stream (`{cg:tenants}:changes`): a tenant created (with the params
 * it was created with) or deleted. Chained like a tenant's own stream: `prev` is the entry before it.
 */
export type TenantChange =
  | { readonly kind: 'added'; readonly tenant: string; readonly paramsJson: string }
  | { readonly kind: 'deleted'; readonly tenant: string }
  | { readonly kind: 'bad'; readonly reason: string };

export interface TenantChangeEntry {
  readonly version: string;
  readonly prev: string;
  readonly change: TenantChange;
}

/** Decodes one entry of the tenants stream; never throws (an unreadable one is kind `bad`). */
export function decodeTenantEntry([version, fields]: [string, string[]]): TenantChangeEntry {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const prev = f.get('p') ?? ZERO_VERSION;
  const tenant = f.get('tenant') ?? '';
  const op = f.get('op');
  if (!TENANT_ID.test(tenant))
    return { version, prev, change: { kind: 'bad', reason: `tenant id "${tenant}" is not valid` } };
  if (op === 'ta')
    return { version, prev, change: { kind: 'added', tenant, paramsJson: f.get('params') ?? '' } };
  if (op === 'td') return { version, prev, change: { kind: 'deleted', tenant } };
  return { version, prev, change: { kind: 'bad', reason: `op "${op}" is not a tenant change (ta, td)` } };
}

/** The tenants stream's current position (the last change id), 0-0 when none. */
export async function tenantChangesVersion(client: RedisClient): Promise<string> {
  return (await client.get(TENANT_VERSION_KEY)) ?? ZERO_VERSION;
}
