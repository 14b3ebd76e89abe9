import type { MatchedRule } from '../domain/decision.js';
import type { Rule } from '../domain/rule.js';
import type { ApiDeps } from './api-deps.js';

const MAX_ENTRIES = 50_000;

/**
 * The stored form of winning rules (the index leaves out OU and remarks), kept per tenant for the
 * version of the rules this node's engine reflects: any change to the tenant's rules moves the
 * version and drops that tenant's entries, so an answer is never older than the decision beside it.
 * Saves /v1/check a Redis round trip per call for the rules that keep winning.
 */
export class StoredRuleCache {
  private readonly tenants = new Map<string, { version: string; rules: Map<number, Rule> }>();

  /** The stored rule when cached for the current version; undefined: ask get(). */
  cached(deps: Pick<ApiDeps, 'registry'>, tenant: string, matched: MatchedRule): Rule | undefined {
    const entry = this.tenants.get(tenant);
    if (!entry || entry.version !== deps.registry.get(tenant)?.version) return undefined;
    const hit = entry.rules.get(matched.id);
    return hit && hit.updatedAt === matched.updatedAt ? hit : undefined;
  }

  async get(
    deps: Pick<ApiDeps, 'registry' | 'rules'>,
    tenant: string,
    matched: MatchedRule,
  ): Promise<Rule | MatchedRule> {
    const version = deps.registry.get(tenant)?.version;
    let entry = this.tenants.get(tenant);
    if (!entry || entry.version !== version) {
      entry = { version: version ?? '', rules: new Map() };
      this.tenants.set(tenant, entry);
    }
    const hit = entry.rules.get(matched.id);
    if (hit && hit.updatedAt === matched.updatedAt) return hit;
    const stored = await deps.rules.get(tenant, matched.id);
    if (!stored) return matched;
    if (version !== undefined && stored.updatedAt === matched.updatedAt) {
      if (entry.rules.size >= MAX_ENTRIES) entry.rules.clear();
      entry.rules.set(matched.id, stored);
    }
    return stored;
  }
}
