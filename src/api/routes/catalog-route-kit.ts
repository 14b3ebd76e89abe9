import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { nameSchema } from '../../domain/rule.js';
import type { AuditKind } from '../../store/audit-repository.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { recordChange } from '../audit.js';
import { type RouteAuth, tenantOf } from '../auth.js';
import { errorResponses, pageById, pageOf, pageQueryShape } from '../schemas.js';
import { assertVisible, assertWritableOu, scopeOf } from '../tenant-context.js';

interface CatalogObject {
  id: string;
  ou?: string;
}

/** How one per-tenant catalogue (OUs, groups, types) is read and written. */
export interface CatalogSpec<T extends CatalogObject> {
  readonly path: string;
  readonly tag: string;
  readonly what: string;
  /** What its changes are recorded as in the audit trail. */
  readonly auditKind: AuditKind;
  /** The stored object. */
  readonly schema: z.ZodType<T>;
  /** The PUT body: the object without its id. */
  readonly body: z.ZodType;
  readonly manage: NonNullable<RouteAuth['auth']>;
  list(deps: ApiDeps, tenant: string): Promise<T[]>;
  get(deps: ApiDeps, tenant: string, id: string): Promise<T | undefined>;
  put(deps: ApiDeps, tenant: string, value: T): Promise<T>;
  delete(deps: ApiDeps, tenant: string, id: string): Promise<boolean>;
  /** The OU that scopes an object for isolated agents (the OU itself for OUs). */
  ouOf(value: T): string | undefined;
}

export const idParams = z.object({ id: nameSchema }).strict();

/** GET list, GET one, PUT (create or replace), DELETE for one catalogue. */
export function registerCatalogRoutes<T extends CatalogObject>(
  typed: ApiApp,
  deps: ApiDeps,
  spec: CatalogSpec<T>,
) {
  // The schemas are generic here, so the handlers see the request as validated but untyped.
  const app = typed as unknown as FastifyInstance;
  const base = `/v1/${spec.path}`;
  app.get(
    base,
    {
      config: { auth: 'any' },
      schema: {
        tags: [spec.tag],
        summary: `List ${spec.what}s`,
        querystring: z.object(pageQueryShape).strict(),
        response: { 200: pageOf(spec.schema), ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const scope = await scopeOf(deps, p);
      const all = (await spec.list(deps, p.tenant)).filter(
        (x) => scope === undefined || (spec.ouOf(x) !== undefined && scope.has(spec.ouOf(x)!)),
      );
      return pageById(
        all,
        (request.query as { limit: number }).limit,
        (request.query as { cursor?: string }).cursor,
      );
    },
  );

  app.get(
    `${base}/:id`,
    {
      config: { auth: 'any' },
      schema: {
        tags: [spec.tag],
        summary: `Read a ${spec.what}`,
        params: idParams,
        response: { 200: spec.schema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const found = await spec.get(deps, p.tenant, (request.params as { id: string }).id);
      const what = `${spec.what} "${(request.params as { id: string }).id}"`;
      if (!found) throw cgError('CG_ERR_NOT_FOUND', `${what} does not exist`);
      assertVisible(await scopeOf(deps, p), spec.ouOf(found), what);
      return found;
    },
  );

  app.put(
    `${base}/:id`,
    {
      config: { auth: spec.manage },
      schema: {
        tags: [spec.tag],
        summary: `Create or replace a ${spec.what}`,
        params: idParams,
        body: spec.body,
        response: { 200: spec.schema, ...errorResponses },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const scope = await scopeOf(deps, p);
      const id = (request.params as { id: string }).id;
      const existing = await spec.get(deps, p.tenant, id);
      if (existing) assertVisible(scope, spec.ouOf(existing), `${spec.what} "${id}"`);
      const value = { ...(request.body as object), id } as T;
      assertWritableOu(scope, spec.ouOf(value));
      if (spec.path !== 'ous' && value.ou !== undefined && !(await deps.catalog.getOu(p.tenant, value.ou))) {
        throw cgError('CG_ERR_INPUT_INVALID', `body.ou: OU "${value.ou}" does not exist; create it first`);
      }
      const saved = await spec.put(deps, p.tenant, value);
      recordChange(deps, request.principal, p.tenant, {
        kind: spec.auditKind,
        action: existing ? 'update' : 'create',
        target: id,
        before: existing,
        after: saved,
        ous: [existing && spec.ouOf(existing), spec.ouOf(saved)].filter((ou) => ou !== undefined),
      });
      return saved;
    },
  );

  app.delete(
    `${base}/:id`,
    {
      config: { auth: spec.manage },
      schema: {
        tags: [spec.tag],
        summary: `Delete a ${spec.what} (refused while rules use it)`,
        params: idParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = tenantOf(request);
      const what = `${spec.what} "${(request.params as { id: string }).id}"`;
      const existing = await spec.get(deps, p.tenant, (request.params as { id: string }).id);
      if (!existing) throw cgError('CG_ERR_NOT_FOUND', `${what} does not exist`);
      assertVisible(await scopeOf(deps, p), spec.ouOf(existing), what);
      await spec.delete(deps, p.tenant, (request.params as { id: string }).id);
      const ou = spec.ouOf(existing);
      recordChange(deps, request.principal, p.tenant, {
        kind: spec.auditKind,
        action: 'delete',
        target: existing.id,
        before: existing,
        ous: ou === undefined ? [] : [ou],
      });
      return reply.code(204).send(null);
    },
  );
}
