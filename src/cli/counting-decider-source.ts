import type { CallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import { decisionsTotal } from '../metrics.js';
import type { CallHandlingSettings } from '../pbx/call-plan.js';
import type { DeciderSource, TenantDecider } from '../pbx/call-screener.js';

type Child = ReturnType<typeof decisionsTotal.labels>;

/**
 * The registry as a PBX role sees it, counting every decision in `callguard_decisions_total` (source =
 * the role; calls with no loaded rules as action failure_policy). The counter children are made once
 * and each tenant's decider is wrapped once per engine swap, so a call costs a map lookup and an add.
 */
export function countingDeciderSource(inner: DeciderSource, source: string): DeciderSource {
  const children = {
    allow: {
      inbound: decisionsTotal.labels('allow', 'inbound', source),
      outbound: decisionsTotal.labels('allow', 'outbound', source),
    },
    block: {
      inbound: decisionsTotal.labels('block', 'inbound', source),
      outbound: decisionsTotal.labels('block', 'outbound', source),
    },
  } satisfies Record<'allow' | 'block', Record<'inbound' | 'outbound', Child>>;
  const failures = decisionsTotal.labels('failure_policy', 'unknown', source);
  const wrapped = new WeakMap<TenantDecider, TenantDecider>();
  const wrap = (decider: TenantDecider): TenantDecider => ({
    policy: decider.policy,
    handling: decider.handling,
    // hot path
    decide(ctx: CallContext): Decision {
      const decision = decider.decide(ctx);
      children[decision.action][ctx.direction].inc();
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
