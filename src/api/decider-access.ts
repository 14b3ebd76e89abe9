import type { TenantDecider } from '../call/call-screener.js';
import { decisionsTotal, type PlainCounter, plainCounter } from '../metrics.js';
import type { ApiDeps } from './api-deps.js';
import { loadedEngine } from './rule-query.js';

/** This node's in-memory decider for a tenant; loads the tenant on first use (bounded wait). */
export async function deciderOf(deps: ApiDeps, tenant: string): Promise<TenantDecider> {
  const ready = deps.registry.deciderFor(tenant);
  if (ready) return ready;
  await loadedEngine(deps, tenant);
  return deps.registry.ensure(tenant).decider()!;
}

const counters = new Map<string, Map<string, PlainCounter>>();

/** Counts API decisions in callguard_decisions_total (source api); one series per (action, direction), made once. */
export function countDecision(action: string, direction: string, n = 1): void {
  let byDirection = counters.get(action);
  if (!byDirection) {
    byDirection = new Map();
    counters.set(action, byDirection);
  }
  let c = byDirection.get(direction);
  if (!c) {
    c = plainCounter(decisionsTotal, action, direction, 'api');
    byDirection.set(direction, c);
  }
  c.inc(n);
}
