import { TaskPolicies } from '../call/task-policies.js';
import { type ContactPolicy, contactPolicySchema, type PolicySet } from '../domain/contact-policy.js';
import { cgError } from '../domain/errors.js';
import { nameSchema } from '../domain/rule.js';
import { parseInput, readHashObject, readHashObjects } from './hash-objects.js';
import { tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { SEP } from './rule-codec.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions } from './store-options.js';
import { setTenantField } from './tenant-field.js';

/**
 * A tenant's contact policies and outbound task → policy bindings. Both change decisions, so every
 * write carries a change record (set-field-3.lua) and reaches every call node through the tenant's
 * change stream, like blocklist types and group bindings.
 */
export class ContactPolicyRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
  ) {}

  private setField(tenant: string, hash: string, field: string, value: string, change: string[]) {
    return setTenantField(this.client, this.options, tenant, { hash, field, value }, change);
  }

  async put(tenant: string, input: unknown): Promise<{ policy: ContactPolicy; version: string }> {
    const policy = parseInput(contactPolicySchema, input, 'contact policy');
    const json = JSON.stringify(policy);
    const k = tenantKeys(tenant);
    const version = await this.setField(tenant, k.policies, policy.id, json, [
      'op',
      'cp',
      'id',
      policy.id,
      'policy',
      json,
    ]);
    return { policy, version };
  }

  get(tenant: string, id: string): Promise<ContactPolicy | undefined> {
    return readHashObject(this.client, tenantKeys(tenant).policies, id, contactPolicySchema);
  }

  list(tenant: string): Promise<ContactPolicy[]> {
    return readHashObjects(this.client, tenantKeys(tenant).policies, contactPolicySchema);
  }

  /** Refused while a task is bound to it (unbind first: a task must not lose a policy unnoticed). */
  async delete(tenant: string, id: string): Promise<string | undefined> {
    if (!(await this.get(tenant, id))) return undefined;
    const tasks = (await this.bindings(tenant)).filter(([, ids]) => ids.includes(id)).map(([t]) => t);
    if (tasks.length > 0) {
      throw cgError(
        'CG_ERR_CONFLICT',
        `contact policy "${id}" is bound to task(s) ${tasks.map((t) => `"${t}"`).join(', ')}; unbind it first (PUT /v1/tasks/{taskId}/policies)`,
        { tasks },
      );
    }
    return this.setField(tenant, tenantKeys(tenant).policies, id, '', ['op', 'cp', 'id', id, 'policy', '']);
  }

  /** Binds an outbound task to exactly these policies, in this order; [] unbinds it. */
  async bind(tenant: string, task: string, ids: readonly string[]): Promise<string> {
    parseInput(nameSchema, task, 'task');
    const unique = [...new Set(ids.map((id) => parseInput(nameSchema, id, 'policy')))];
    const value = unique.join(SEP);
    return this.setField(tenant, tenantKeys(tenant).taskPolicies, task, value, [
      'op',
      'tp',
      'task',
      task,
      'policies',
      value,
    ]);
  }

  async bindingOf(tenant: string, task: string): Promise<string[]> {
    const v = await this.client.hget(tenantKeys(tenant).taskPolicies, task);
    return v ? v.split(SEP) : [];
  }

  async bindings(tenant: string): Promise<Array<[task: string, ids: string[]]>> {
    const all = await this.client.hgetall(tenantKeys(tenant).taskPolicies);
    return Object.keys(all)
      .sort()
      .map((task) => [task, all[task]!.split(SEP)]);
  }

  /** Everything a call node holds (read after the rules snapshot; later changes re-apply on top). */
  async load(tenant: string): Promise<TaskPolicies> {
    const [policies, bindings] = await Promise.all([this.list(tenant), this.bindings(tenant)]);
    return new TaskPolicies(new Map(policies.map((p) => [p.id, p])), new Map(bindings));
  }

  /** The whole set, for a catalog export. */
  async export(tenant: string): Promise<PolicySet> {
    const [policies, bindings] = await Promise.all([this.list(tenant), this.bindings(tenant)]);
    return { policies, tasks: Object.fromEntries(bindings) };
  }

  /** Writes a whole set (a catalog import): each policy, then each binding; what is not in it stays. */
  async import(
    tenant: string,
    set: PolicySet,
  ): Promise<{ policies: number; tasks: number; version: string }> {
    let version = '';
    for (const p of set.policies) version = (await this.put(tenant, p)).version;
    for (const [task, ids] of Object.entries(set.tasks)) version = await this.bind(tenant, task, ids);
    return { policies: set.policies.length, tasks: Object.keys(set.tasks).length, version };
  }
}
