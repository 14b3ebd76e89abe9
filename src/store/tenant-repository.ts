import { Cluster } from 'ioredis';
import { cgError } from '../domain/errors.js';
import { type Tenant, tenantSchema } from './catalog-schemas.js';
import { parseInput } from './hash-objects.js';
import { assertTenantId, TENANT_CHANGES_KEY, TENANT_VERSION_KEY, TENANTS_KEY, tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { setTenantField } from './tenant-field.js';
import { readParams, type TenantParams, tenantParamsSchema, unknownParamFields } from './tenant-params.js';

/** Tenants and their parameters. A parameter change is a change record: call nodes apply it live. */
export class TenantRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Creates a tenant (CG_ERR_CONFLICT when it exists). The tenant's own hash is written first; then
   * one script adds the id to the set of tenants and records it in the tenants change stream, which
   * every node tails (both global keys share one slot). A crash between the two leaves a tenant that
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
    const json = JSON.stringify(params);
    await this.client.hset(k.tenant, 'createdAt', String(tenant.createdAt), 'params', json);
    await this.announce('ta', id, json);
    return tenant;
  }

  /**
   * Deletes a tenant and everything stored under it (rules, snapshot, keys, jobs' files). Its record
   * goes first, so a node that hears of the deletion and asks finds no tenant; then the set and the
   * tenants stream (nodes stop syncing it); then its remaining keys. Returns false when there was none.
   */
  async delete(id: string): Promise<boolean> {
    assertTenantId(id);
    const k = tenantKeys(id);
    const existed = (await this.client.del(k.tenant)) === 1;
    const announced = (await this.announce('td', id, '')) !== '';
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      const stream = node.scanStream({ match: `${k.prefix}*`, count: 1000 });
      for await (const keys of stream as AsyncIterable<string[]>)
        if (keys.length > 0) await node.unlink(...keys);
    }
    return existed || announced;
  }

  private announce(op: 'ta' | 'td', id: string, paramsJson: string): Promise<string> {
    return runScript(
      this.client,
      'announce-tenant-3',
      [TENANTS_KEY, TENANT_CHANGES_KEY, TENANT_VERSION_KEY],
      [op, id, this.options.streamMaxLen, paramsJson],
    ) as Promise<string>;
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
    const current = await this.params(id);
    const unknown = unknownParamFields(current);
    const known = Object.fromEntries(Object.entries(current).filter(([name]) => !(name in unknown)));
    const next = parseInput(tenantParamsSchema, { ...known, ...patch }, 'tenant parameters');
    const k = tenantKeys(id);
    // Fields written by a newer version stay as they were.
    const json = JSON.stringify({ ...unknown, ...next });
    await setTenantField(this.client, this.options, id, { hash: k.tenant, field: 'params', value: json }, [
      'op',
      'pa',
      'params',
      json,
    ]);
    return next;
  }
}
