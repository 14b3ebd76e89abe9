import { z } from 'zod';
import { type BlocklistType, blocklistTypeSchema } from '../../domain/blocklist-type.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { registerCatalogRoutes } from './catalog-route-kit.js';

const typeView = blocklistTypeSchema.meta({ id: 'BlocklistType' }) as z.ZodType<BlocklistType>;

/** The PUT body: a type without its id; each operation's needed fields required, the others refused. */
const typeBodySchema = z.discriminatedUnion('operation', [
  blocklistTypeSchema.options[0].omit({ id: true }),
  blocklistTypeSchema.options[1].omit({ id: true }),
]);

/** Blocklist types: how a block is carried out (auto wrap-up with a business result, or a pop-up). */
export function registerTypeRoutes(app: ApiApp, deps: ApiDeps): void {
  registerCatalogRoutes<BlocklistType>(app, deps, {
    path: 'types',
    tag: 'types',
    what: 'blocklist type',
    auditKind: 'type',
    schema: typeView,
    body: typeBodySchema,
    manage: 'types:manage',
    list: (d, t) => d.catalog.listTypes(t),
    get: (d, t, id) => d.catalog.getType(t, id),
    put: async (d, t, v) => (await d.catalog.putType(t, v)).type,
    delete: (d, t, id) => d.catalog.deleteType(t, id),
    ouOf: (v) => v.ou,
  });
}
