import { type BlocklistGroup, groupSchema } from '../../store/catalog-schemas.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { registerCatalogRoutes } from './catalog-route-kit.js';

const groupView = groupSchema.meta({ id: 'BlocklistGroup' });

/** Blocklist groups: name, OU, description; rules in a group apply to the tasks bound to it. */
export function registerGroupRoutes(app: ApiApp, deps: ApiDeps): void {
  registerCatalogRoutes<BlocklistGroup>(app, deps, {
    path: 'groups',
    tag: 'groups',
    what: 'blocklist group',
    auditKind: 'group',
    schema: groupView,
    body: groupSchema.omit({ id: true }),
    manage: 'groups:manage',
    list: (d, t) => d.catalog.listGroups(t),
    get: (d, t, id) => d.catalog.getGroup(t, id),
    put: (d, t, v) => d.catalog.putGroup(t, v),
    delete: (d, t, id) => d.catalog.deleteGroup(t, id),
    ouOf: (v) => v.ou,
  });
}
