import { z } from 'zod';
import { policySetSchema } from '../../domain/contact-policy.js';
import { cgError } from '../../domain/errors.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { inScope, tenantOf } from '../auth.js';
import { settle } from '../rule-writes.js';
import { errorResponses } from '../schemas.js';
import { assertWritableOu, scopeOf } from '../tenant-context.js';

const setView = z
  .object({
    policies: z.array(z.looseObject({ id: z.string() })),
    tasks: z.record(z.string(), z.array(z.string())),
  })
  .meta({
    id: 'PolicySet',
    description:
      "A tenant's contact policies and task bindings as one document: what the offline checker's --policies reads.",
  });

/**
 * The contact policies and task bindings exported and imported as one JSON document (the same file
 * `callguard check --policies` reads), so that a tenant's policies move with its catalog.
 */
export function registerPolicySetRoutes(app: ApiApp, deps: ApiDeps): void {
  app.get(
    '/v1/contact-policy-set',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['contact policies'],
        summary: 'Export the contact policies and task bindings (an agent confined to OUs: its OUs only)',
        response: { 200: setView, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const scope = await scopeOf(deps, p);
      const set = await deps.policies.export(p.tenant);
      if (scope === undefined) return set;
      const policies = set.policies.filter((x) => inScope(scope, x.ou));
      const ids = new Set(policies.map((x) => x.id));
      const tasks = Object.fromEntries(
        Object.entries(set.tasks)
          .map(([task, bound]) => [task, bound.filter((id) => ids.has(id))] as const)
          .filter(([, bound]) => bound.length > 0),
      );
      return { policies, tasks };
    },
  );

  app.post(
    '/v1/contact-policy-set',
    {
      config: { auth: 'groups:manage' },
      schema: {
        tags: ['contact policies'],
        summary: 'Import contact policies and task bindings: each is created or replaced; others stay',
        body: policySetSchema,
        response: {
          200: z.object({ policies: z.number().int(), tasks: z.number().int() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const scope = await scopeOf(deps, p);
      if (scope !== undefined && Object.keys(request.body.tasks).length > 0) {
        throw cgError('CG_ERR_FORBIDDEN', 'binding tasks in an import needs a key not confined to OUs');
      }
      const set = request.body;
      const [types, ous] = await Promise.all([
        deps.catalog.listTypes(p.tenant),
        deps.catalog.listOus(p.tenant),
      ]);
      const typeIds = new Set(types.map((t) => t.id));
      const ouIds = new Set(ous.map((o) => o.id));
      const problems: string[] = [];
      set.policies.forEach((x, i) => {
        assertWritableOu(scope, x.ou);
        if (x.typeId !== undefined && !typeIds.has(x.typeId))
          problems.push(`policies.${i}.typeId: blocklist type "${x.typeId}" does not exist`);
        if (x.ou !== undefined && !ouIds.has(x.ou))
          problems.push(`policies.${i}.ou: OU "${x.ou}" does not exist`);
      });
      if (problems.length > 0) {
        throw cgError('CG_ERR_INPUT_INVALID', `${problems.join('; ')}; create them first`, { problems });
      }
      const before = new Map((await deps.policies.list(p.tenant)).map((x) => [x.id, x]));
      const { version, ...counts } = await deps.policies.import(p.tenant, set);
      await settle(deps, p.tenant, version);
      for (const x of set.policies) {
        recordChange(deps, p, p.tenant, {
          kind: 'policy',
          action: before.has(x.id) ? 'update' : 'create',
          target: x.id,
          before: before.get(x.id),
          after: x,
          ous: [before.get(x.id)?.ou, x.ou].filter((ou) => ou !== undefined),
        });
      }
      return counts;
    },
  );
}
