import type { Decision } from '../../src/domain/decision.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { CatalogRepository } from '../../src/store/catalog-repository.js';
import type { RedisClient } from '../../src/store/redis-client.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';

/** An engine built fresh from what the store holds now: the reference every synced node must match. */
export async function engineFromStore(client: RedisClient, tenant: string): Promise<DecisionEngine> {
  const rules = [];
  for await (const batch of new RuleRepository(client).scan(tenant)) rules.push(...batch);
  const catalog = new CatalogRepository(client);
  return DecisionEngine.fromRules(rules, {
    types: await catalog.listTypes(tenant),
    bindings: await catalog.bindings(tenant),
    defaultAction: (await new TenantRepository(client).params(tenant)).defaultAction,
  });
}

/** What a caller notices of a decision: the action, the rule that won and how the block is carried out. */
export const decisionSummary = (d: Decision) => ({
  action: d.action,
  rule: d.rule?.id ?? null,
  outcome: d.outcome,
});
