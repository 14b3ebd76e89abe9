import { cgError } from '../domain/errors.js';
import { type Tenant, tenantSchema } from './catalog-schemas.js';
import { parseInput } from './hash-objects.js';
import { assertTenantId, TENANTS_KEY, tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { readParams, type TenantParams, tenantParamsSchema } from './tenant-params.js';

/** Tenants and their parameters. A parameter change is a change record: call nodes apply it live. */
export class TenantRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Creates a tenant (CG_ERR_CONFLICT when it exists). The registry set is a global key in another
   * slot, so it is written after the tenant's own hash; a crash between the two leaves a tenant that
   * create() completes when called again.
   */
  async create(id: string, input: { name?: string; params?: Partial<TenantParams> } = {}): Promise<Tenant> {
    assertTenantId(id);
    const k = tenantKeys(id);
    const params = parseInput(tenantParamsSchema, input.params ?? {}, 'tenant parameters');
    const tenant = parseInput(tenantSchema, { id, name: input.name ?? id, createdAt: this.now() }, 'tenant');
    const created = await this.client.hsetnx(k.tenant, 'name', tenant.name);
    if (created === 0 && (await this.client.sismember(TENANTS_KEY, id)) === 1) {
      throw cgError('CG_ERR_CONFLICT', `tenant "${id}" exists`);
    }
    await this.client.hset(k.tenant, 'createdAt', String(tenant.createdAt), 'params', JSON.stringify(params));
    await this.client.sadd(TENANTS_KEY, id);
    return tenant;
  }

  async get(id: string): Promise<Tenant | undefined> {
    const h = await this.client.hgetall(tenantKeys(id).tenant);
    if (!h.name) return undefined;
    return { id, name: h.name, createdAt: Number(h.createdAt ?? 0) };
  }

  async list(): Promise<Tenant[]> {
    const ids = (await this.client.smembers(TENANTS_KEY)).sort();
    const tenants = await Promise.all(ids.map((id) => this.get(id)));
    return tenants.filter((t): t is Tenant => t !== undefined);
  }

  async ids(): Promise<string[]> {
    return (await this.client.smembers(TENANTS_KEY)).sort();
  }

  async params(id: string): Promise<TenantParams> {
    return readParams(await this.client.hget(tenantKeys(id).tenant, 'params'));
  }

  /** Changes some parameters; the rest keep their values. Returns the new whole set. */
  async setParams(id: string, patch: Partial<TenantParams>): Promise<TenantParams> {
    if (!(await this.get(id))) throw cgError('CG_ERR_NOT_FOUND', `tenant "${id}" does not exist`);
    const next = parseInput(
      tenantParamsSchema,
      { ...(await this.params(id)), ...patch },
      'tenant parameters',
    );
    const k = tenantKeys(id);
    const json = JSON.stringify(next);
    await runScript(
      this.client,
      'set-field-3',
      [k.tenant, k.changes, k.version],
      ['params', json, this.options.streamMaxLen, 'op', 'pa', 'params', json],
    );
    return next;
  }
}
