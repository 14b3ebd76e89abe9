import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { cgError } from '../domain/errors.js';
import { type ApiKeyRecord, hashApiKey, type Permission } from '../store/api-key-repository.js';
import type { TenantParams } from '../store/tenant-params.js';
import type { ApiDeps } from './api-deps.js';

/** Who is calling: a tenant's key, or the system key (tenants and their first keys). */
export type Principal =
  | { readonly kind: 'system' }
  | {
      readonly kind: 'tenant';
      readonly tenant: string;
      readonly keyId: string;
      readonly keyName?: string;
      readonly role: ApiKeyRecord['role'];
      readonly permissions: ReadonlySet<Permission>;
      readonly ous: ReadonlySet<string>;
      /** When the key stops working (epoch ms). */
      readonly expiresAt?: number;
      /** Agent keys: the agent whose pop-ups the key may receive. */
      readonly agentId?: string;
    };
export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

/** What a route asks of the caller, in its `config`. */
export interface RouteAuth {
  /** 'none': public (health, docs); 'system': the system key; otherwise a tenant key with this permission. */
  readonly auth?: 'none' | 'system' | 'tenant_admin' | Permission | 'any';
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteAuth {}
  interface FastifyRequest {
    principal?: Principal;
  }
}

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/** A key's last use is written at most this often (its precision in the key list). */
const TOUCH_MS = 60_000;

/** A verified key (principal undefined: unknown or revoked), good until `until` (epoch ms). */
interface Verified {
  readonly principal: TenantPrincipal | undefined;
  readonly until: number;
  readonly hash: string;
}

/**
 * Resolves `Authorization: Bearer <key>`. Verified keys are cached for a few seconds by their hash so
 * that a request costs one hash, not a Redis round trip; a revoked key stops working within CACHE_MS
 * (at once on this node, which forget()s). A good key is also found by the exact header it came in,
 * for as long as its verification holds, so that the check path does not hash it again.
 */
export class Authenticator {
  private readonly cache = new Map<string, Verified>();
  /** Header → the same entry as in `cache`, good keys only; oldest first, dropped once expired. */
  private readonly byHeader = new Map<string, Verified>();
  private readonly touched = new Map<string, number>();
  private readonly systemHash: Buffer | undefined;

  constructor(
    private readonly deps: Pick<ApiDeps, 'keys' | 'config' | 'now'> & Partial<Pick<ApiDeps, 'client'>>,
  ) {
    const sys = deps.config.CALLGUARD_SYSTEM_KEY;
    this.systemHash = sys ? Buffer.from(hashApiKey(sys), 'hex') : undefined;
  }

  get systemEnabled(): boolean {
    return this.systemHash !== undefined;
  }

  /** Whether the store connection is known to be down (then nobody waits to find it out again). */
  private storeAway(): boolean {
    const status = this.deps.client?.status;
    return status !== undefined && status !== 'ready';
  }

  forget(): void {
    this.cache.clear();
    this.byHeader.clear();
  }

  /** The principal of an already verified tenant key, without waiting; undefined: ask authenticate(). */
  cached(request: FastifyRequest, need: NonNullable<RouteAuth['auth']>): Principal | undefined {
    if (need === 'system' || need === 'none') return undefined;
    const header = request.headers.authorization;
    if (typeof header !== 'string') return undefined;
    const hit = this.byHeader.get(header);
    if (hit === undefined) return undefined;
    const now = this.deps.now();
    if (hit.until < now) return undefined;
    return this.admit(hit.principal!, hit.hash, need, now);
  }

  /** Notes a good key's header; drops the entries whose verification ran out (the oldest come first). */
  private remember(header: string, hit: Verified, now: number): void {
    for (const [h, v] of this.byHeader) {
      if (v.until >= now) break;
      this.byHeader.delete(h);
    }
    if (this.byHeader.size >= CACHE_MAX) this.byHeader.clear();
    this.byHeader.delete(header);
    this.byHeader.set(header, hit);
  }

  /** An expired key is refused; a good one has its use noted (off the request path) and its rights checked. */
  private admit(
    principal: TenantPrincipal,
    hash: string,
    need: NonNullable<RouteAuth['auth']>,
    now: number,
  ): TenantPrincipal {
    if (principal.expiresAt !== undefined && principal.expiresAt <= now) {
      throw cgError(
        'CG_ERR_UNAUTHENTICATED',
        `the API key expired at ${new Date(principal.expiresAt).toISOString()}; ask a tenant admin for a new one`,
      );
    }
    const last = this.touched.get(hash);
    if (last === undefined || now - last >= TOUCH_MS) {
      if (this.touched.size >= CACHE_MAX) this.touched.clear();
      this.touched.set(hash, now);
      this.deps.keys.touch(principal.tenant, hash).catch(() => {
        // Redis away: the last use is a convenience, the request goes on; it is written next time.
        this.touched.delete(hash);
      });
    }
    return Authenticator.allowed(principal, need);
  }

  private static allowed(principal: TenantPrincipal, need: NonNullable<RouteAuth['auth']>): TenantPrincipal {
    if (need === 'tenant_admin' && principal.role !== 'tenant_admin') {
      throw cgError('CG_ERR_FORBIDDEN', 'this operation needs a tenant_admin key');
    }
    if (need !== 'any' && need !== 'tenant_admin' && !principal.permissions.has(need as Permission)) {
      throw cgError('CG_ERR_FORBIDDEN', `this operation needs the permission ${need}`, { permission: need });
    }
    return principal;
  }

  async authenticate(
    request: FastifyRequest,
    need: NonNullable<RouteAuth['auth']>,
  ): Promise<Principal | undefined> {
    if (need === 'none') return undefined;
    if (need === 'system' && !this.systemHash) {
      throw cgError(
        'CG_ERR_SYSTEM_DISABLED',
        'system endpoints are off on this server; set CALLGUARD_SYSTEM_KEY to turn them on',
      );
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) {
      throw cgError(
        'CG_ERR_UNAUTHENTICATED',
        'send an API key as "Authorization: Bearer <key>" (create one with callguard key create)',
      );
    }
    const key = match[1]!;
    const hash = hashApiKey(key);
    if (need === 'system') {
      if (timingSafeEqual(Buffer.from(hash, 'hex'), this.systemHash!)) return { kind: 'system' };
      throw cgError('CG_ERR_UNAUTHENTICATED', 'this endpoint needs the system key (CALLGUARD_SYSTEM_KEY)');
    }
    const now = this.deps.now();
    let hit = this.cache.get(hash);
    if (hit?.principal && hit.until < now && this.storeAway()) {
      // Redis away: a key verified before keeps working without asking (check and screen answer
      // from memory at once); it is verified again once Redis is back.
      hit = { principal: hit.principal, until: now + CACHE_MS, hash };
    } else if (!hit || hit.until < now) {
      let principal: TenantPrincipal | undefined;
      try {
        const record = await this.deps.keys.verify(key);
        principal = record ? principalOf(record) : undefined;
      } catch (error) {
        // Redis away: a key verified before keeps working (check and screen answer from memory).
        if (!hit?.principal) throw error;
        principal = hit.principal;
      }
      hit = { principal, until: now + CACHE_MS, hash };
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(hash, hit);
    }
    const principal = hit.principal;
    if (!principal) throw cgError('CG_ERR_UNAUTHENTICATED', 'the API key is not valid (unknown or revoked)');
    this.remember(header!, hit, now);
    return this.admit(principal, hash, need, now);
  }
}

function principalOf(record: ApiKeyRecord): TenantPrincipal {
  return {
    kind: 'tenant',
    tenant: record.tenant,
    keyId: record.id,
    ...(record.name === undefined ? {} : { keyName: record.name }),
    role: record.role,
    permissions: new Set(record.permissions),
    ous: new Set(record.ous),
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    ...(record.agentId === undefined ? {} : { agentId: record.agentId }),
  };
}

export function tenantOf(request: FastifyRequest): TenantPrincipal {
  const p = request.principal;
  if (p?.kind !== 'tenant') throw cgError('CG_ERR_UNAUTHENTICATED', 'a tenant API key is needed');
  return p;
}

/**
 * The OUs a caller may see: undefined = all of them. An agent is limited to its OUs only when the
 * tenant has data isolation on; objects without an OU are then out of its reach too.
 */
export function ouScope(p: TenantPrincipal, params: TenantParams): ReadonlySet<string> | undefined {
  return p.role === 'agent' && params.dataIsolation ? p.ous : undefined;
}

export const inScope = (scope: ReadonlySet<string> | undefined, ou: string | undefined): boolean =>
  scope === undefined || (ou !== undefined && scope.has(ou));
