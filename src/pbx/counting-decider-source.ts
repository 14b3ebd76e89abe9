import type { CallHandlingSettings } from '../call/call-plan.js';
import type { DeciderSource, TenantDecider } from '../call/call-screener.js';
import type { CallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import { decisionsTotal, plainCounter } from '../metrics.js';

/**
 * The registry as a PBX role sees it, counting every decision in `callguard_decisions_total` (source =
 * the role; calls with no loaded rules as action failure_policy). Each tenant's decider is wrapped
 * once per engine swap, and a call only adds one to a plain number: prom-client's inc() hashes and
 * validates its labels every time, so the sums are handed to the counter at scrape time instead.
 */
export function countingDeciderSource(inner: DeciderSource, source: string): DeciderSource {
  const series = (action: string) => ({
    inbound: plainCounter(decisionsTotal, action, 'inbound', source),
    outbound: plainCounter(decisionsTotal, action, 'outbound', source),
  });
  const counts = { allow: series('allow'), block: series('block') };
  const failures = decisionsTotal.labels('failure_policy', 'unknown', source);
  const wrapped = new WeakMap<TenantDecider, TenantDecider>();
  const wrap = (decider: TenantDecider): TenantDecider => ({
    policy: decider.policy,
    handling: decider.handling,
    // hot path
    decide(ctx: CallContext): Decision {
      const decision = decider.decide(ctx);
      counts[decision.action][ctx.direction].inc();
      return decision;
    },
  });
  return {
    // hot path
    deciderFor(tenant: string): TenantDecider | undefined {
      const decider = inner.deciderFor(tenant);
      if (!decider) return undefined;
      let w = wrapped.get(decider);
      if (!w) {
        w = wrap(decider);
        wrapped.set(decider, w);
      }
      return w;
    },
    fallbackHandling(tenant: string): CallHandlingSettings {
      failures.inc();
      return inner.fallbackHandling(tenant);
    },
  };
}
