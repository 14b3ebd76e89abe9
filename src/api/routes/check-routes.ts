import { z } from 'zod';
import { rawCallSchema, toCallContext } from '../../domain/call-context.js';
import { lookupSeconds } from '../../metrics.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { inScope, tenantOf } from '../auth.js';
import { countDecision, deciderOf } from '../decider-access.js';
import { errorResponses } from '../schemas.js';
import { StoredRuleCache } from '../stored-rule-cache.js';
import { scopeOf } from '../tenant-context.js';
import { ruleView } from './rule-routes.js';

const callBody = rawCallSchema.meta({
  id: 'Call',
  description:
    'A call as the PBX sees it: raw numbers, direction, task and scope; `at` (epoch ms) to decide as at another time.',
});
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
  })
  .meta({ id: 'Decision' });

const observe = lookupSeconds.labels('check');
const storedRules = new StoredRuleCache();

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
    },
    async (request) => {
      const principal = tenantOf(request);
      const tenant = principal.tenant;
      const decider = deps.registry.deciderFor(tenant) ?? (await deciderOf(deps, tenant));
      const ctx = toCallContext(request.body, decider.policy, deps.now());
      const t0 = performance.now();
      const decision = decider.decide(ctx);
      observe.observe((performance.now() - t0) / 1000);
      countDecision(decision.action, ctx.direction);
      const matchedRule = decision.rule;
      const stored = matchedRule ? await storedRules.get(deps, tenant, matchedRule) : null;
      if (principal.role === 'agent' && stored) {
        // An isolated agent learns the answer, not the details of another OU's rule.
        const scope = await scopeOf(deps, principal);
        if (!inScope(scope, (stored as { ou?: string }).ou)) {
          return {
            action: decision.action,
            rule: null,
            runnerUp: null,
            outcome: decision.outcome,
            why: `a rule outside your OUs ${decision.action === 'block' ? 'blocks' : 'allows'} this call`,
          };
        }
      }
      return {
        action: decision.action,
        rule: stored,
        runnerUp: decision.runnerUp,
        outcome: decision.outcome,
        why: decision.why,
      };
    },
  );
}
