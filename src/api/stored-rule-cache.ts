import type { MatchedRule } from '../domain/decision.js';
import type { Rule } from '../domain/rule.js';
import type { ApiDeps } from './api-deps.js';

const MAX_ENTRIES = 50_000;
/** Longer than a healthy Redis ever takes; a check is never held up by a store that is away. */
const READ_TIMEOUT_MS = 250;

/** The value, or undefined when the read failed or took longer than `ms`. */
async function readWithin<T>(read: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([read.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The stored form of winning rules (the index leaves out OU and remarks), kept per tenant for the
 * version of the rules this node's engine reflects: any change to the tenant's rules moves the
 * version and drops that tenant's entries, so an answer is never older than the decision beside it.
 * Saves /v1/check a Redis round trip per call for the rules that keep winning. Redis away: the answer
 * carries the rule as the engine has it (no OU or remarks), the decision itself never needs Redis.
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
    const stored = await readWithin(deps.rules.get(tenant, matched.id), READ_TIMEOUT_MS);
    if (!stored) return matched;
    if (version !== undefined && stored.updatedAt === matched.updatedAt) {
      if (entry.rules.size >= MAX_ENTRIES) entry.rules.clear();
      entry.rules.set(matched.id, stored);
    }
    return stored;
  }
}
