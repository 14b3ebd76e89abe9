import { type CallContext, toCallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import type { NormalizationPolicy } from '../domain/number.js';
import type { CallEventSink } from './call-events.js';
import { type CallHandlingSettings, type CallPlan, planForDecision, planForFailure } from './call-plan.js';
import type { IncomingCall } from './incoming-call.js';

/** One tenant's loaded rules as the call path sees them. */
export interface TenantDecider {
  readonly policy: NormalizationPolicy;
  readonly handling: CallHandlingSettings;
  decide(ctx: CallContext): Decision;
  /** Counts an attempt the screener let through (outbound calls of tasks with attempt caps). */
  recordAttempt?(ctx: CallContext): void;
}

/** Where the screener finds a tenant's decider: the in-memory index kept in sync with Redis. */
export interface DeciderSource {
  /** undefined when no index was ever loaded for the tenant (the failure policy applies). */
  deciderFor(tenant: string): TenantDecider | undefined;
  /** Handling settings for a tenant with no loaded index (failure policy, hangup cause). */
  fallbackHandling(tenant: string): CallHandlingSettings;
}

/**
 * Sees every screening as it is made (audit, hit counters). Called synchronously on the call path:
 * an observer only pushes into memory and returns; writing happens elsewhere, later.
 */
export interface DecisionObserver {
  observe(call: IncomingCall, screening: Screening): void;
}

export interface Screening {
  readonly plan: CallPlan;
  /** null when the failure policy decided (no index loaded). */
  readonly decision: Decision | null;
  readonly ctx: CallContext | null;
}

/**
 * Turns a call read off a channel into the plan the adapter carries out. Synchronous: never waits on
 * Redis or anything else. Events go to the sink, which must not block either.
 */
export class CallScreener {
  constructor(
    private readonly source: DeciderSource,
    private readonly events: CallEventSink,
    private readonly now: () => number = Date.now,
    private readonly observer?: DecisionObserver,
  ) {}

  screen(call: IncomingCall): Screening {
    const decider = this.source.deciderFor(call.tenant);
    if (!decider) {
      return this.observed(call, {
        plan: planForFailure(call, this.source.fallbackHandling(call.tenant)),
        decision: null,
        ctx: null,
      });
    }
    // The incoming call carries every field a raw call has; no copy on the call path.
    const ctx = toCallContext(call, decider.policy, this.now());
    const decision = decider.decide(ctx);
    if (decision.action === 'allow' && decider.recordAttempt) decider.recordAttempt(ctx);
    const plan = planForDecision(call, ctx, decision, decider.handling);
    if (plan.event) this.events.emit(plan.event);
    return this.observed(call, { plan, decision, ctx });
  }

  private observed(call: IncomingCall, screening: Screening): Screening {
    if (this.observer) {
      try {
        this.observer.observe(call, screening);
      } catch {
        // audit and counters must never cost a call its answer
      }
    }
    return screening;
  }
}
