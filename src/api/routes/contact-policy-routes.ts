import { z } from 'zod';
import {
  type ContactPolicy,
  contactPolicyBodySchema,
  contactPolicySchema,
} from '../../domain/contact-policy.js';
import { cgError } from '../../domain/errors.js';
import { nameSchema } from '../../domain/rule.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { inScope, tenantOf } from '../auth.js';
import { settle } from '../rule-writes.js';
import { errorResponses } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';
import { registerCatalogRoutes } from './catalog-route-kit.js';

const policyView = contactPolicySchema.meta({ id: 'ContactPolicy' }) as unknown as z.ZodType<ContactPolicy>;
const taskParams = z.object({ taskId: nameSchema }).strict();
const taskPoliciesSchema = z
  .object({ taskId: z.string(), policies: z.array(z.string()) })
  .meta({ id: 'TaskPolicies' });
const bindBody = z
  .object({
    policies: z
      .array(nameSchema)
      .max(100)
      .describe("Exactly the contact policies the task's calls are checked against, in order; [] unbinds."),
  })
  .strict();

/**
 * Contact policies (calling windows and attempt caps, OU-scoped like groups) and the outbound task
 * → policies binding. Writes wait until this node applies them, so a check right after sees them.
 */
export function registerContactPolicyRoutes(app: ApiApp, deps: ApiDeps): void {
  registerCatalogRoutes<ContactPolicy>(app, deps, {
    path: 'contact-policies',
    tag: 'contact policies',
    what: 'contact policy',
    auditKind: 'policy',
    schema: policyView,
    body: contactPolicyBodySchema,
    manage: 'groups:manage',
    list: (d, t) => d.policies.list(t),
    get: (d, t, id) => d.policies.get(t, id),
    put: async (d, t, v) => {
      if (v.typeId !== undefined && !(await d.catalog.getType(t, v.typeId))) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `body.typeId: blocklist type "${v.typeId}" does not exist; create it first`,
        );
      }
      const { policy, version } = await d.policies.put(t, v);
      await settle(d, t, version);
      return policy;
    },
    delete: async (d, t, id) => {
      const version = await d.policies.delete(t, id);
      if (version) await settle(d, t, version);
      return version !== undefined;
    },
    ouOf: (v) => v.ou,
  });

  // A confined agent sees and sets the policies of its OUs; bindings to other OUs' policies stay.
  const boundWithOu = async (tenant: string, taskId: string) => {
    const bound = await deps.policies.bindingOf(tenant, taskId);
    const found = await Promise.all(bound.map((id) => deps.policies.get(tenant, id)));
    return bound.map((id, i) => ({ id, ou: found[i]?.ou }));
  };
  const visible = async (tenant: string, taskId: string, scope: ReadonlySet<string> | undefined) =>
    (await boundWithOu(tenant, taskId))
      .filter((p) => scope === undefined || inScope(scope, p.ou))
      .map((p) => p.id);

  app.put(
    '/v1/tasks/:taskId/policies',
    {
      config: { auth: 'tasks:bind' },
      schema: {
        tags: ['tasks'],
        summary: 'Bind an outbound task to exactly these contact policies',
        params: taskParams,
        body: bindBody,
        response: { 200: taskPoliciesSchema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const { tenant } = p;
      const scope = await scopeOf(deps, p);
      const { taskId } = request.params;
      const ids = [...new Set(request.body.policies)];
      const found = await Promise.all(ids.map((id) => deps.policies.get(tenant, id)));
      const missing = ids.filter((_, i) => !found[i] || !inScope(scope, found[i]!.ou));
      if (missing.length > 0) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `body.policies: ${missing.map((id) => `"${id}"`).join(', ')} does not exist; create the contact policy first`,
          { missing },
        );
      }
      const before = await visible(tenant, taskId, scope);
      const kept =
        scope === undefined
          ? []
          : (await boundWithOu(tenant, taskId)).filter((b) => !inScope(scope, b.ou)).map((b) => b.id);
      const version = await deps.policies.bind(tenant, taskId, [...kept, ...ids]);
      await settle(deps, tenant, version);
      const after = await visible(tenant, taskId, scope);
      recordChange(deps, p, tenant, {
        kind: 'binding',
        action: 'update',
        target: taskId,
        before: { taskId, policies: before },
        after: { taskId, policies: after },
        ous: found.flatMap((f) => (f?.ou === undefined ? [] : [f.ou])),
      });
      return { taskId, policies: after };
    },
  );

  app.get(
    '/v1/tasks/:taskId/policies',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['tasks'],
        summary: "The contact policies an outbound task's calls are checked against",
        params: taskParams,
        response: { 200: taskPoliciesSchema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const { taskId } = request.params;
      return { taskId, policies: await visible(p.tenant, taskId, await scopeOf(deps, p)) };
    },
  );
}
