import type { TenantDecider } from '../call/call-screener.js';
import { decisionsTotal } from '../metrics.js';
import type { ApiDeps } from './api-deps.js';
import { loadedEngine } from './rule-query.js';

/** This node's in-memory decider for a tenant; loads the tenant on first use (bounded wait). */
export async function deciderOf(deps: ApiDeps, tenant: string): Promise<TenantDecider> {
  const ready = deps.registry.deciderFor(tenant);
  if (ready) return ready;
  await loadedEngine(deps, tenant);
  return deps.registry.ensure(tenant).decider()!;
}

const counters = new Map<string, ReturnType<typeof decisionsTotal.labels>>();

/** The decisions counter child for (action, direction), made once. */
export function countDecision(action: string, direction: string, n = 1): void {
  const key = `${action}\u0000${direction}`;
  let c = counters.get(key);
  if (!c) {
    c = decisionsTotal.labels(action, direction, 'api');
    counters.set(key, c);
  }
  c.inc(n);
}
