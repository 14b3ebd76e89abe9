import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { nameSchema } from '../../domain/rule.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { inScope, tenantOf } from '../auth.js';
import { settle } from '../rule-writes.js';
import { errorResponses } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';

const taskParams = z.object({ taskId: nameSchema }).strict();
const bindingSchema = z
  .object({ taskId: z.string(), groups: z.array(z.string()) })
  .meta({ id: 'TaskBinding' });
const bindBody = z
  .object({
    groups: z.array(nameSchema).max(1000).describe('Exactly the groups the task is bound to; [] unbinds it.'),
  })
  .strict();

/** Outbound task → blocklist group bindings (an agent confined to OUs sees and sets its OUs' groups). */
export function registerTaskRoutes(app: ApiApp, deps: ApiDeps): void {
  const boundWithOu = async (tenant: string, taskId: string) => {
    const bound = await deps.catalog.bindingOf(tenant, taskId);
    const groups = await Promise.all(bound.map((g) => deps.catalog.getGroup(tenant, g)));
    return bound.map((id, i) => ({ id, ou: groups[i]?.ou }));
  };
  const visibleGroups = async (tenant: string, taskId: string, scope: ReadonlySet<string> | undefined) =>
    scope === undefined
      ? deps.catalog.bindingOf(tenant, taskId)
      : (await boundWithOu(tenant, taskId)).filter((g) => inScope(scope, g.ou)).map((g) => g.id);
  const foreignGroups = async (tenant: string, taskId: string, scope: ReadonlySet<string>) =>
    (await boundWithOu(tenant, taskId)).filter((g) => !inScope(scope, g.ou)).map((g) => g.id);

  app.put(
    '/v1/tasks/:taskId/groups',
    {
      config: { auth: 'tasks:bind' },
      schema: {
        tags: ['tasks'],
        summary: 'Bind an outbound task to exactly these groups',
        params: taskParams,
        body: bindBody,
        response: { 200: bindingSchema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const { tenant } = p;
      const scope = await scopeOf(deps, p);
      const { taskId } = request.params;
      const groups = [...new Set(request.body.groups)];
      const found = await Promise.all(groups.map((g) => deps.catalog.getGroup(tenant, g)));
      // A group outside a confined agent's OUs is answered as missing.
      const missing = groups.filter((_, i) => !found[i] || !inScope(scope, found[i]!.ou));
      if (missing.length > 0) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `body.groups: ${missing.map((g) => `"${g}"`).join(', ')} does not exist; create the group first`,
          { missing },
        );
      }
      // A confined agent sets the task's groups of its OUs; bindings to other OUs' groups stay.
      const before = await visibleGroups(tenant, taskId, scope);
      const kept = scope === undefined ? [] : await foreignGroups(tenant, taskId, scope);
      const version = await deps.catalog.bind(tenant, taskId, [...kept, ...groups]);
      await settle(deps, tenant, version);
      const after = await visibleGroups(tenant, taskId, scope);
      recordChange(deps, p, tenant, {
        kind: 'binding',
        action: 'update',
        target: taskId,
        before: { taskId, groups: before },
        after: { taskId, groups: after },
        ous: found.flatMap((g) => (g?.ou === undefined ? [] : [g.ou])),
      });
      return { taskId, groups: after };
    },
  );

  app.get(
    '/v1/tasks/:taskId/groups',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['tasks'],
        summary: 'The groups an outbound task is bound to',
        params: taskParams,
        response: { 200: bindingSchema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      return {
        taskId: request.params.taskId,
        groups: await visibleGroups(p.tenant, request.params.taskId, await scopeOf(deps, p)),
      };
    },
  );
}
