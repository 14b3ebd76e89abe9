import { cgError } from '../domain/errors.js';
import type { TenantParams } from '../store/tenant-params.js';
import type { ApiDeps } from './api-deps.js';
import { inScope, ouScope, type TenantPrincipal } from './auth.js';

/** The tenant's parameters as stored (the source of truth for access decisions, not the synced copy). */
export function paramsOf(deps: ApiDeps, tenant: string): Promise<TenantParams> {
  return deps.tenants.params(tenant);
}

/** The OUs the caller may touch (undefined: all). */
export async function scopeOf(deps: ApiDeps, p: TenantPrincipal): Promise<ReadonlySet<string> | undefined> {
  if (p.role !== 'agent') return undefined;
  return ouScope(p, await paramsOf(deps, p.tenant));
}

/** Refuses an object outside the caller's OUs as if it did not exist (never reveal what is there). */
export function assertVisible(
  scope: ReadonlySet<string> | undefined,
  ou: string | undefined,
  what: string,
): void {
  if (!inScope(scope, ou)) throw cgError('CG_ERR_NOT_FOUND', `${what} does not exist`);
}

/** Refuses writing an object into an OU outside the caller's reach. */
export function assertWritableOu(scope: ReadonlySet<string> | undefined, ou: string | undefined): void {
  if (inScope(scope, ou)) return;
  throw cgError(
    'CG_ERR_FORBIDDEN',
    ou === undefined
      ? `with data isolation on, an agent must give an ou, one of: ${[...(scope ?? [])].join(', ') || '(none)'}`
      : `ou "${ou}" is not one of this key's OUs (${[...(scope ?? [])].join(', ') || 'none'})`,
    { ou },
  );
}

/** The OUs recorded on a job or schedule the caller starts: an agent's OUs, none for a tenant admin. */
export const keyOus = (p: TenantPrincipal): readonly string[] | undefined =>
  p.role === 'agent' ? [...p.ous] : undefined;
