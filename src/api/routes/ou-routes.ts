import { type OrganizationUnit, ouSchema } from '../../store/catalog-schemas.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { registerCatalogRoutes } from './catalog-route-kit.js';

const ouView = ouSchema.meta({ id: 'OrganizationUnit' });

/** Organization units: own rules, groups and types; tenant admins manage them. */
export function registerOuRoutes(app: ApiApp, deps: ApiDeps): void {
  registerCatalogRoutes<OrganizationUnit & { ou?: string }>(app, deps, {
    path: 'ous',
    tag: 'ous',
    what: 'OU',
    auditKind: 'ou',
    schema: ouView,
    body: ouSchema.omit({ id: true }),
    manage: 'tenant_admin',
    list: (d, t) => d.catalog.listOus(t),
    get: (d, t, id) => d.catalog.getOu(t, id),
    put: (d, t, v) =>
      d.catalog.putOu(t, { id: v.id, name: v.name, ...(v.parent ? { parent: v.parent } : {}) }),
    delete: (d, t, id) => d.catalog.deleteOu(t, id),
    ouOf: (v) => v.id,
  });
}
