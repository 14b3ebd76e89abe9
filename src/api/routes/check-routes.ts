import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { TenantDecider } from '../../call/call-screener.js';
import { rawCallSchema, toCallContext } from '../../domain/call-context.js';
import type { Decision, MatchedRule } from '../../domain/decision.js';
import { plainRawCall } from '../../domain/raw-call-fast-path.js';
import type { Rule } from '../../domain/rule.js';
import { lookupSeconds } from '../../metrics.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { inScope, type TenantPrincipal, tenantOf } from '../auth.js';
import { CheckAnswerCache } from '../check-answer-cache.js';
import { countDecision, deciderOf } from '../decider-access.js';
import { fastBodyValidator } from '../fast-body-validator.js';
import { errorResponses } from '../schemas.js';
import { StoredRuleCache } from '../stored-rule-cache.js';
import { scopeOf } from '../tenant-context.js';
import { ruleView } from './rule-routes.js';

const callBody = rawCallSchema.meta({
  id: 'Call',
  description:
    'A call as the PBX sees it: raw numbers, direction, task and scope; `at` (epoch ms or ISO time) to decide as at another time (expiry, contact policies).',
});
const policyVerdictSchema = z.object({ id: z.string(), name: z.string(), reason: z.string() });
const matched = z.looseObject({ id: z.number().int() });
const decisionSchema = z
  .object({
    action: z.enum(['allow', 'block']),
    rule: ruleView
      .nullable()
      .describe('The winning rule as stored (with its OU and remarks); null: the tenant default.'),
    runnerUp: matched.nullable().describe('The best matching rule the winner beat.'),
    outcome: z.object({
      operation: z.enum(['none', 'auto_wrap_up', 'pop_up']),
      typeId: z.string().optional(),
      businessResult: z.string().optional(),
      promptContent: z.string().optional(),
      jumpAddress: z.string().optional(),
    }),
    why: z.string(),
    policy: policyVerdictSchema
      .optional()
      .describe('The contact policy of the task that refused a call the rules allow, and why.'),
  })
  .meta({ id: 'Decision' });

const observe = lookupSeconds.labels('check');
const storedRules = new StoredRuleCache();
const answers = new CheckAnswerCache();

/** One call context → the decision this node's in-memory engine makes, and why. */
export function registerCheckRoutes(app: ApiApp, deps: ApiDeps): void {
  app.post(
    '/v1/check',
    {
      config: { auth: 'rules:read' },
      schema: {
        tags: ['check'],
        summary: 'Decide one call and say why',
        body: callBody,
        response: { 200: decisionSchema, ...errorResponses },
      },
      // The usual body (numbers, direction, plain names) is taken as it is; any other goes through
      // rawCallSchema, which answers it or says what is wrong (src/domain/raw-call-fast-path.ts).
      validatorCompiler: fastBodyValidator(plainRawCall),
    },
    // Not an async function: a call whose tenant is loaded and whose winning rule is cached is
    // answered without a promise (a winner alone shapes most answers: their JSON is kept, see
    // CheckAnswerCache); the rest go through answer().
    (request, reply) => {
      const principal = tenantOf(request);
      const tenant = principal.tenant;
      const decider = deps.registry.deciderFor(tenant);
      if (!decider) return answer(principal, request.body);
      const decision = decideNow(decider, request.body);
      if (principal.role === 'agent') return answer(principal, request.body, decision);
      let json = answers.get(tenant, decider, decision);
      if (json === undefined) {
        const matched = decision.rule;
        const stored = matched ? storedRules.cached(deps, tenant, matched) : null;
        if (stored === undefined) return firstSight(reply, tenant, decider, decision);
        json = viewJson(decision, stored);
        answers.set(tenant, decider, decision, json);
      }
      reply.type(JSON_TYPE).send(json as never);
      return undefined;
    },
  );

  const decideNow = (decider: TenantDecider, body: z.output<typeof rawCallSchema>): Decision => {
    const ctx = toCallContext(body, decider.policy, deps.now());
    const t0 = performance.now();
    const decision = decider.decide(ctx);
    observe.observe((performance.now() - t0) / 1000);
    countDecision(decision.action, ctx.direction);
    return decision;
  };

  /**
   * A winner whose stored form this node has not read in this version: read it, answer, and keep the
   * answer as the next check of the same winner would, unless the tenant moved meanwhile.
   */
  const firstSight = async (
    reply: FastifyReply,
    tenant: string,
    decider: TenantDecider,
    decision: Decision,
  ) => {
    const matched = decision.rule!;
    const stored = await storedRules.get(deps, tenant, matched);
    if (
      deps.registry.deciderFor(tenant) !== decider ||
      storedRules.cached(deps, tenant, matched) !== stored
    ) {
      return view(decision, stored);
    }
    const json = viewJson(decision, stored as Rule);
    answers.set(tenant, decider, decision, json);
    reply.type(JSON_TYPE).send(json as never);
    return undefined;
  };

  const answer = async (
    principal: TenantPrincipal,
    body: z.output<typeof rawCallSchema>,
    decided?: Decision,
  ) => {
    const decision = decided ?? decideNow(await deciderOf(deps, principal.tenant), body);
    const matched = decision.rule;
    const stored = matched ? await storedRules.get(deps, principal.tenant, matched) : null;
    if (principal.role === 'agent') {
      const scope = await scopeOf(deps, principal);
      if (scope !== undefined) return confinedView(decision, stored, scope, principal.tenant);
    }
    return view(decision, stored);
  };

  /**
   * What an agent confined to its OUs learns: the answer, never the id or details of another OU's
   * rule or contact policy. A foreign winner leaves rule and runnerUp null; a foreign runner-up is null
   * and `why` says the winner "beat a rule outside your OUs"; a foreign policy's refusal comes without
   * the policy (docs/DECISIONS.md).
   */
  const confinedView = async (
    decision: Decision,
    stored: Rule | MatchedRule | null,
    scope: ReadonlySet<string>,
    tenant: string,
  ) => {
    const ouOf = (r: Rule | MatchedRule) => (r as { ou?: string }).ou;
    if (stored && !inScope(scope, ouOf(stored))) {
      return {
        action: decision.action,
        rule: null,
        runnerUp: null,
        outcome: decision.outcome,
        why: `a rule outside your OUs ${decision.action === 'block' ? 'blocks' : 'allows'} this call`,
      };
    }
    const policy = decision.policy;
    if (policy && !inScope(scope, (await deps.policies.get(tenant, policy.id))?.ou)) {
      // A contact policy of another OU refused the call: the answer, not the policy or its reason.
      const { policy: _hidden, ...rest } = view(decision, stored);
      return { ...rest, why: 'a contact policy outside your OUs refuses this call' };
    }
    const runnerUp = decision.runnerUp;
    if (runnerUp && !inScope(scope, ouOf(await storedRules.get(deps, tenant, runnerUp)))) {
      return { ...view(decision, stored), runnerUp: null, why: withoutRunnerUp(decision.why) };
    }
    return view(decision, stored);
  };
}

/** explainDecision's sentence with the beaten rule replaced by "a rule outside your OUs". */
export function withoutRunnerUp(why: string): string {
  const at = why.indexOf('; it beat rule ');
  return `${at < 0 ? why : why.slice(0, at)}; it beat a rule outside your OUs`;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** JSON of objects that live as long as an engine or a cached stored rule: written once each. */
const jsonOf = new WeakMap<object, string>();
const onceJson = (o: object): string => {
  let json = jsonOf.get(o);
  if (json === undefined) {
    json = JSON.stringify(o);
    jsonOf.set(o, json);
  }
  return json;
};

/**
 * JSON.stringify(view(decision, stored)) for a stored rule from the cache: the rule and the outcome
 * (one object per type and engine) are written once, not per answer.
 */
export function viewJson(decision: Decision, stored: Rule | null): string {
  const runnerUp = decision.runnerUp;
  return `{"action":${JSON.stringify(decision.action)},"rule":${stored === null ? 'null' : onceJson(stored)},"runnerUp":${runnerUp === null ? 'null' : JSON.stringify(runnerUp)},"outcome":${onceJson(decision.outcome)},"why":${JSON.stringify(decision.why)}${decision.policy ? `,"policy":${JSON.stringify(decision.policy)}` : ''}}`;
}

export function view(decision: Decision, stored: Rule | MatchedRule | null) {
  return {
    action: decision.action,
    rule: stored,
    runnerUp: decision.runnerUp,
    outcome: decision.outcome,
    why: decision.why,
    ...(decision.policy ? { policy: decision.policy } : {}),
  };
}
