import {
  type BlocklistType,
  blocklistTypeInputSchema,
  blocklistTypeSchema,
} from '../domain/blocklist-type.js';
import { cgError } from '../domain/errors.js';
import { nameSchema } from '../domain/rule.js';
import { type BlocklistGroup, groupSchema, type OrganizationUnit, ouSchema } from './catalog-schemas.js';
import { parseInput, readHashObject, readHashObjects } from './hash-objects.js';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { SEP } from './rule-codec.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { setTenantField } from './tenant-field.js';

/**
 * A tenant's OUs, blocklist groups, blocklist types and outbound task → group bindings. Types and
 * bindings change decisions, so their writes carry a change record (set-field-3.lua).
 */
export class CatalogRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
  ) {}

  private setField(tenant: string, hash: string, field: string, value: string, change: string[]) {
    return setTenantField(this.client, this.options, tenant, { hash, field, value }, change);
  }

  private async inUse(tenant: string, dim: 'g' | 't' | 'o', id: string): Promise<boolean> {
    return (await this.client.exists(tenantKeys(tenant).tagDir(dim, id))) === 1;
  }

  // OUs
  async putOu(tenant: string, input: OrganizationUnit): Promise<OrganizationUnit> {
    const ou = parseInput(ouSchema, input, 'organization unit');
    await this.client.hset(tenantKeys(tenant).ous, ou.id, JSON.stringify(ou));
    return ou;
  }
  getOu(tenant: string, id: string) {
    return readHashObject(this.client, tenantKeys(tenant).ous, id, ouSchema);
  }
  listOus(tenant: string) {
    return readHashObjects(this.client, tenantKeys(tenant).ous, ouSchema);
  }
  async deleteOu(tenant: string, id: string): Promise<boolean> {
    if (await this.inUse(tenant, 'o', id)) throw cgError('CG_ERR_CONFLICT', `OU "${id}" still owns rules`);
    return (await this.client.hdel(tenantKeys(tenant).ous, id)) === 1;
  }

  // Groups
  async putGroup(tenant: string, input: BlocklistGroup): Promise<BlocklistGroup> {
    const group = parseInput(groupSchema, input, 'blocklist group');
    await this.client.hset(tenantKeys(tenant).groups, group.id, JSON.stringify(group));
    return group;
  }
  getGroup(tenant: string, id: string) {
    return readHashObject(this.client, tenantKeys(tenant).groups, id, groupSchema);
  }
  listGroups(tenant: string) {
    return readHashObjects(this.client, tenantKeys(tenant).groups, groupSchema);
  }
  async deleteGroup(tenant: string, id: string): Promise<boolean> {
    if (await this.inUse(tenant, 'g', id)) throw cgError('CG_ERR_CONFLICT', `group "${id}" still has rules`);
    return (await this.client.hdel(tenantKeys(tenant).groups, id)) === 1;
  }

  // Types
  async putType(tenant: string, input: BlocklistType): Promise<{ type: BlocklistType; version: string }> {
    const type = parseInput(blocklistTypeInputSchema, input, 'blocklist type');
    const json = JSON.stringify(type);
    const version = await this.setField(tenant, tenantKeys(tenant).types, type.id, json, [
      'op',
      'ty',
      'id',
      type.id,
      'type',
      json,
    ]);
    return { type, version };
  }
  getType(tenant: string, id: string) {
    return readHashObject(this.client, tenantKeys(tenant).types, id, blocklistTypeSchema);
  }
  listTypes(tenant: string) {
    return readHashObjects(this.client, tenantKeys(tenant).types, blocklistTypeSchema);
  }
  async deleteType(tenant: string, id: string): Promise<boolean> {
    if (await this.inUse(tenant, 't', id)) throw cgError('CG_ERR_CONFLICT', `type "${id}" is used by rules`);
    if (!(await this.getType(tenant, id))) return false;
    await this.setField(tenant, tenantKeys(tenant).types, id, '', ['op', 'ty', 'id', id, 'type', '']);
    return true;
  }

  // Bindings
  /** Binds an outbound task to exactly these groups; an empty list unbinds it. */
  async bind(tenant: string, task: string, groups: readonly string[]): Promise<string> {
    parseInput(nameSchema, task, 'task');
    const unique = [...new Set(groups.map((g) => parseInput(nameSchema, g, 'group')))].sort();
    const value = unique.join(SEP);
    return this.setField(tenant, tenantKeys(tenant).bindings, task, value, [
      'op',
      'b',
      'task',
      task,
      'groups',
      value,
    ]);
  }
  unbind(tenant: string, task: string): Promise<string> {
    return this.bind(tenant, task, []);
  }
  async bindingOf(tenant: string, task: string): Promise<string[]> {
    const v = await this.client.hget(tenantKeys(tenant).bindings, task);
    return v ? v.split(SEP) : [];
  }
  async bindings(tenant: string): Promise<Array<[task: string, groups: string[]]>> {
    const all = await this.client.hgetall(tenantKeys(tenant).bindings);
    return Object.keys(all)
      .sort()
      .map((task) => [task, all[task]!.split(SEP)]);
  }
}
