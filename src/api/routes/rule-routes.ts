import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { ruleIdSchema, ruleSchema } from '../../domain/rule.js';
import { ruleInputSchema, toRule } from '../../domain/rule-input.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { tenantOf } from '../auth.js';
import { hasFilter, pageRules, RULE_SORTS, ruleFilterShape, selectRules } from '../rule-query.js';
import {
  checkReferences,
  createRule,
  duplicatesQuery,
  refuseForeignDuplicate,
  settle,
} from '../rule-writes.js';
import { errorResponses, pageOf, pageQueryShape, wholeNumberText } from '../schemas.js';
import { assertVisible, assertWritableOu, paramsOf, scopeOf } from '../tenant-context.js';

export const ruleView = ruleSchema.meta({
  id: 'Rule',
  description: 'A stored rule: canonical patterns, times in epoch milliseconds.',
});
const ruleBody = ruleInputSchema.meta({
  id: 'NewRule',
  description:
    'A rule as written by a user: numbers or patterns (_PREFIX!, _PREFIX., _PREFIXXXX, anonymous), a validity instead of an expiry.',
});
const writeResult = z.object({
  rule: ruleView,
  status: z.enum(['created', 'updated', 'replaced', 'skipped']),
});
const ruleParams = z.object({ id: wholeNumberText(1, 0xffff_ffff).pipe(ruleIdSchema) }).strict();
const listQuery = z
  .object({
    ...ruleFilterShape,
    ...pageQueryShape,
    sort: z.enum(RULE_SORTS).default('id').describe('Sort field; a leading - sorts descending.'),
  })
  .strict();
const bulkDeleteBody = z
  .object({
    ...ruleFilterShape,
    all: z.boolean().default(false).describe('Needed to delete with no filter at all.'),
  })
  .strict()
  .meta({ id: 'RuleBulkDelete' });

/** Rules: create (duplicate modes), read, replace, delete, query, bulk delete by query. */
export function registerRuleRoutes(app: ApiApp, deps: ApiDeps): void {
  app.post(
    '/v1/rules',
    {
      config: { auth: 'rules:create' },
      schema: {
        tags: ['rules'],
        summary: 'Create a rule',
        querystring: duplicatesQuery,
        body: ruleBody,
        response: { 201: writeResult, 200: writeResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = tenantOf(request);
      const scope = await scopeOf(deps, p);
      const written = await createRule(deps, p, scope, request.body, request.query.duplicates);
      return reply.code(written.status === 'skipped' ? 200 : 201).send(written);
    },
  );

  app.get(
    '/v1/rules',
    {
      config: { auth: 'rules:read' },
      schema: {
        tags: ['rules'],
        summary:
          'Query rules by number (exact, matching, prefix), group, type, OU, direction, action, expiry',
        querystring: listQuery,
        response: { 200: pageOf(ruleView), ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const q = request.query;
      const params = await paramsOf(deps, p.tenant);
      const scope = await scopeOf(deps, p);
      const rules = await selectRules(deps, p.tenant, q, params, scope);
      return pageRules(rules, q.sort, q.limit, q.cursor);
    },
  );

  app.get(
    '/v1/rules/:id',
    {
      config: { auth: 'rules:read' },
      schema: {
        tags: ['rules'],
        summary: 'Read a rule',
        params: ruleParams,
        response: { 200: ruleView, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const rule = await deps.rules.get(p.tenant, request.params.id);
      const what = `rule ${request.params.id}`;
      if (!rule) throw cgError('CG_ERR_NOT_FOUND', `${what} does not exist`);
      assertVisible(await scopeOf(deps, p), rule.ou, what);
      return rule;
    },
  );

  app.put(
    '/v1/rules/:id',
    {
      config: { auth: 'rules:update' },
      schema: {
        tags: ['rules'],
        summary: 'Replace a rule (validity counts from now)',
        params: ruleParams,
        querystring: z.object({ duplicates: z.enum(['reject', 'override']).default('reject') }).strict(),
        body: ruleBody,
        response: { 200: writeResult, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const id = request.params.id;
      const scope = await scopeOf(deps, p);
      const existing = await deps.rules.get(p.tenant, id);
      if (!existing) throw cgError('CG_ERR_NOT_FOUND', `rule ${id} does not exist`);
      assertVisible(scope, existing.ou, `rule ${id}`);
      const params = await paramsOf(deps, p.tenant);
      const next = toRule(request.body, { id, policy: params.normalization, now: deps.now() });
      assertWritableOu(scope, next.ou);
      await checkReferences(deps, p.tenant, next);
      if (scope !== undefined) await refuseForeignDuplicate(deps, p.tenant, next, scope);
      const { updatedAt: _u, ...rest } = next;
      const written = await deps.rules.update(p.tenant, rest, request.query.duplicates);
      await settle(deps, p.tenant, written.version);
      recordChange(deps, p, p.tenant, {
        kind: 'rule',
        action: 'update',
        target: id,
        before: existing,
        after: written.rule,
      });
      return { rule: written.rule, status: 'updated' as const };
    },
  );

  app.delete(
    '/v1/rules/:id',
    {
      config: { auth: 'rules:delete' },
      schema: {
        tags: ['rules'],
        summary: 'Delete a rule',
        params: ruleParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = tenantOf(request);
      const id = request.params.id;
      const existing = await deps.rules.get(p.tenant, id);
      if (!existing) throw cgError('CG_ERR_NOT_FOUND', `rule ${id} does not exist`);
      assertVisible(await scopeOf(deps, p), existing.ou, `rule ${id}`);
      const { version } = await deps.rules.delete(p.tenant, [id]);
      await settle(deps, p.tenant, version);
      recordChange(deps, p, p.tenant, { kind: 'rule', action: 'delete', target: id, before: existing });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/rules/bulk-delete',
    {
      config: { auth: 'rules:delete' },
      schema: {
        tags: ['rules'],
        summary: 'Delete every rule a query selects (the caller may see)',
        body: bulkDeleteBody,
        response: { 200: z.object({ deleted: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const f = request.body;
      if (!hasFilter(f) && !f.all) {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          'body: give at least one filter (number, group, type, ou, direction, action, expiry), or "all": true to delete every rule',
        );
      }
      const params = await paramsOf(deps, p.tenant);
      const scope = await scopeOf(deps, p);
      const selected = await selectRules(deps, p.tenant, f, params, scope);
      const ids = selected.map((r) => r.id);
      let deleted = 0;
      let version = '';
      for (let i = 0; i < ids.length; i += 1000) {
        const r = await deps.rules.delete(p.tenant, ids.slice(i, i + 1000));
        deleted += r.deleted.length;
        version = r.version || version;
      }
      await settle(deps, p.tenant, version);
      // One entry for the whole deletion: the query and how many went, not a copy of every rule.
      recordChange(deps, p, p.tenant, {
        kind: 'rule',
        action: 'delete',
        target: 'bulk-delete',
        before: { query: f, selected: ids.length },
        after: { deleted },
        ous: [...new Set(selected.flatMap((r) => (r.ou === undefined ? [] : [r.ou])))],
      });
      return { deleted };
    },
  );
}
