import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { nameSchema } from '../../domain/rule.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { settle } from '../rule-writes.js';
import { errorResponses } from '../schemas.js';

const taskParams = z.object({ taskId: nameSchema }).strict();
const bindingSchema = z
  .object({ taskId: z.string(), groups: z.array(z.string()) })
  .meta({ id: 'TaskBinding' });
const bindBody = z
  .object({
    groups: z.array(nameSchema).max(1000).describe('Exactly the groups the task is bound to; [] unbinds it.'),
  })
  .strict();

/** Outbound task → blocklist group bindings. */
export function registerTaskRoutes(app: ApiApp, deps: ApiDeps): void {
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
      const { tenant } = tenantOf(request);
      const { taskId } = request.params;
      const groups = [...new Set(request.body.groups)];
      const found = await Promise.all(groups.map((g) => deps.catalog.getGroup(tenant, g)));
      const missing = groups.filter((_, i) => !found[i]);
      if (missing.length > 0) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `body.groups: ${missing.map((g) => `"${g}"`).join(', ')} does not exist; create the group first`,
          { missing },
        );
      }
      const before = await deps.catalog.bindingOf(tenant, taskId);
      const version = await deps.catalog.bind(tenant, taskId, groups);
      await settle(deps, tenant, version);
      const after = await deps.catalog.bindingOf(tenant, taskId);
      recordChange(deps, request.principal, tenant, {
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
      const { tenant } = tenantOf(request);
      return {
        taskId: request.params.taskId,
        groups: await deps.catalog.bindingOf(tenant, request.params.taskId),
      };
    },
  );
}
