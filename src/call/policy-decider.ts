import type { BlocklistType } from '../domain/blocklist-type.js';
import { type Outcome, outcomeOf } from '../domain/blocklist-type.js';
import type { CallContext } from '../domain/call-context.js';
import type { ContactPolicy } from '../domain/contact-policy.js';
import type { Decision, PolicyVerdict } from '../domain/decision.js';
import { attemptIncrements, firstRefusal, type PolicyInputs } from '../domain/policy-evaluation.js';
import type { AttemptCounter } from './attempt-counter.js';
import type { TenantDecider } from './call-screener.js';
import { calleeZoneTable } from './callee-zones.js';
import type { TaskPolicies } from './task-policies.js';

/** A call the rules allowed and a contact policy refused. */
class PolicyDecision implements Decision {
  readonly action = 'block' as const;
  readonly ruleId = null;
  readonly rule = null;
  readonly runnerUp = null;

  constructor(
    readonly policy: PolicyVerdict,
    readonly outcome: Outcome,
    /** The rule that allowed the call, if one did (for the explanation). */
    private readonly allowedBy: number | null,
  ) {}

  get why(): string {
    const rules = this.allowedBy === null ? 'no rule blocks it' : `rule ${this.allowedBy} allows it`;
    return `contact policy "${this.policy.id}" refuses the call: ${this.policy.reason} (${rules})`;
  }

  toJSON() {
    const { action, ruleId, rule, runnerUp, outcome, why, policy } = this;
    return { action, ruleId, rule, runnerUp, outcome, why, policy };
  }
}

export interface PolicyDeciderOptions {
  readonly tenant: string;
  readonly policies: TaskPolicies;
  readonly counter: AttemptCounter | undefined;
  /** The tenant's blocklist types (the outcome a refused call gets). */
  readonly typeOf: (id: string) => BlocklistType | undefined;
}

/**
 * Adds a tenant's contact policies to its rule decider: an outbound call of a task with policies
 * that the rules allow is then checked against them; a blocking rule wins without asking them. With
 * no policy bound anywhere the rule decider is returned as it is (nothing added to the call path).
 */
export function withPolicies(rules: TenantDecider, o: PolicyDeciderOptions): TenantDecider {
  if (o.policies.empty) return rules;
  o.counter?.follow?.(o.tenant);
  const table = calleeZoneTable();
  // Every policy of a call asks for the same number's zones: the last answer is kept.
  let lastNumber = '';
  let lastZones: readonly string[] | undefined;
  const inputs: PolicyInputs = {
    zonesOf: (number) => {
      if (number !== lastNumber) {
        lastNumber = number;
        lastZones = table.zonesOf(number);
      }
      return lastZones;
    },
    tallyOf: (key) => o.counter?.tallyOf(o.tenant, key),
  };
  const outcomes = new Map<string, Outcome>();
  const outcomeFor = (policy: ContactPolicy): Outcome => {
    const typeId = policy.typeId ?? '';
    let outcome = outcomes.get(typeId);
    if (!outcome) {
      outcome = outcomeOf(policy.typeId === undefined ? undefined : o.typeOf(policy.typeId));
      outcomes.set(typeId, outcome);
    }
    return outcome;
  };
  const shared = new WeakMap<ContactPolicy, Map<string, PolicyDecision>>();
  const verdictOf = (policy: ContactPolicy, reason: string): PolicyVerdict => ({
    id: policy.id,
    name: policy.name,
    reason,
  });
  const boundTo = (ctx: CallContext) =>
    ctx.direction === 'outbound' && ctx.called !== '' ? o.policies.of(ctx.task) : undefined;
  return {
    policy: rules.policy,
    handling: rules.handling,
    decide(ctx) {
      const decision = rules.decide(ctx);
      if (decision.action === 'block') return decision;
      const bound = boundTo(ctx);
      if (bound === undefined) return decision;
      const refusal = firstRefusal(bound, ctx.called, ctx.task, ctx.at, inputs);
      if (refusal === null) return decision;
      const { policy, reason } = refusal;
      const allowedBy = decision.ruleId;
      // A scrub refuses thousands of numbers for the same reason (reasons are shared strings): one
      // decision object per policy and reason when no rule was involved, not one per number.
      if (allowedBy !== null)
        return new PolicyDecision(verdictOf(policy, reason), outcomeFor(policy), allowedBy);
      let byReason = shared.get(policy);
      if (!byReason) {
        byReason = new Map();
        shared.set(policy, byReason);
      }
      let refused = byReason.get(reason);
      if (!refused) {
        if (byReason.size > 1000) byReason.clear();
        refused = new PolicyDecision(verdictOf(policy, reason), outcomeFor(policy), null);
        byReason.set(reason, refused);
      }
      return refused;
    },
    recordAttempt(ctx) {
      const bound = boundTo(ctx);
      if (bound === undefined || o.counter === undefined) return;
      const increments = attemptIncrements(bound, ctx.called, ctx.task, ctx.at, inputs);
      if (increments.size > 0) o.counter.add(o.tenant, increments);
    },
  };
}
