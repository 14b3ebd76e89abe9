import type { BlocklistType } from '../domain/blocklist-type.js';
import { cgError } from '../domain/errors.js';
import type { Rule } from '../domain/rule.js';
import { DecisionEngine } from '../engine/decision-engine.js';
import { CatalogRepository } from './catalog-repository.js';
import { type ChangeEntry, ChangeStream } from './change-stream.js';
import type { RedisClient } from './redis-client.js';
import { RuleRepository } from './rule-repository.js';
import type { TenantParams } from './tenant-params.js';
import { TenantRepository } from './tenant-repository.js';

export interface TenantState {
  readonly engine: DecisionEngine;
  /** The change id the engine reflects. */
  readonly version: string;
  readonly params: TenantParams;
}

/**
 * Builds a tenant's engine from the rules themselves (no snapshot). The scan is not one atomic read,
 * so it notes the version first and afterwards replays every change made since: each change carries
 * the whole new value, so replaying one the scan already saw changes nothing, and the result is the
 * store's state at the last replayed version.
 */
export async function loadTenantState(client: RedisClient, tenant: string): Promise<TenantState> {
  const changes = new ChangeStream(client);
  for (let attempt = 0; attempt < 5; attempt++) {
    const start = await changes.version(tenant);
    let params = await new TenantRepository(client).params(tenant);
    const catalog = new CatalogRepository(client);
    const types = new Map((await catalog.listTypes(tenant)).map((t) => [t.id, t] as [string, BlocklistType]));
    const bindings = new Map(await catalog.bindings(tenant));
    const rules = new Map<number, Rule>();
    for await (const batch of new RuleRepository(client).scan(tenant))
      for (const r of batch) rules.set(r.id, r);
    let version = start;
    let gap = false;
    for (let round = 0; round < 10_000; round++) {
      const entries: ChangeEntry[] = await changes.after(tenant, version, 5000);
      for (const e of entries) {
        if (e.prev !== version) {
          gap = true;
          break;
        }
        const c = e.change;
        if (c.kind === 'upsert') rules.set(c.rule.id, c.rule);
        else if (c.kind === 'delete') for (const id of c.ids) rules.delete(id);
        else if (c.kind === 'bind')
          c.groups.length > 0 ? bindings.set(c.task, [...c.groups]) : bindings.delete(c.task);
        else if (c.kind === 'type') c.type ? types.set(c.id, c.type) : types.delete(c.id);
        else if (c.kind === 'params') params = c.params;
        version = e.version;
      }
      if (gap || entries.length < 5000) break;
    }
    if (gap) continue;
    const engine = DecisionEngine.fromRules(rules.values(), {
      types: types.values(),
      bindings: [...bindings],
      defaultAction: params.defaultAction,
    });
    return { engine, version, params };
  }
  throw cgError(
    'CG_ERR_UNAVAILABLE',
    `rules of tenant "${tenant}" kept changing faster than they could be read`,
  );
}
