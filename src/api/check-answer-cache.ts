import type { TenantDecider } from '../call/call-screener.js';
import type { Decision } from '../domain/decision.js';

const MAX_ENTRIES = 50_000;

interface Answer {
  readonly action: Decision['action'];
  readonly outcome: Decision['outcome'];
  readonly json: string;
}

/**
 * The JSON answer of `/v1/check` by winning rule, for the decisions that nothing but their winner
 * shapes: no runner-up and no contact policy. Such an answer (action, stored rule, outcome, sentence)
 * is fixed for as long as the tenant's decider is: every change to the tenant's rules, types, default
 * or policies swaps the decider, and a tenant's entries go with the decider they were made under.
 * The stored rule inside comes from StoredRuleCache for the version of that same decider. A repeated
 * check of a rule that keeps winning then builds neither the rule, its sentence nor the JSON again.
 */
export class CheckAnswerCache {
  private readonly tenants = new Map<
    string,
    { readonly decider: TenantDecider; readonly answers: Map<number | null, Answer> }
  >();

  /** The answer made for this winner under this decider; undefined: build it (and set() it). */
  get(tenant: string, decider: TenantDecider, decision: Decision): string | undefined {
    if (decision.runnerUp !== null || decision.policy !== undefined) return undefined;
    const entry = this.tenants.get(tenant);
    if (entry === undefined || entry.decider !== decider) return undefined;
    const hit = entry.answers.get(decision.ruleId);
    if (hit === undefined || hit.action !== decision.action || hit.outcome !== decision.outcome) {
      return undefined;
    }
    return hit.json;
  }

  /** Keeps `json`, the answer to `decision` under `decider`, when nothing but the winner shaped it. */
  set(tenant: string, decider: TenantDecider, decision: Decision, json: string): void {
    if (decision.runnerUp !== null || decision.policy !== undefined) return;
    let entry = this.tenants.get(tenant);
    if (entry === undefined || entry.decider !== decider) {
      entry = { decider, answers: new Map() };
      this.tenants.set(tenant, entry);
    }
    if (entry.answers.size >= MAX_ENTRIES) entry.answers.clear();
    entry.answers.set(decision.ruleId, { action: decision.action, outcome: decision.outcome, json });
  }
}
