import type { Redis } from 'ioredis';
import { CatalogRepository } from '../../../src/store/catalog-repository.js';

/** Creates the OUs, groups and types an import's rows name (imports refuse names that do not exist). */
export async function seedCatalog(
  client: Redis,
  tenant: string,
  names: { ous?: readonly string[]; groups?: readonly string[]; types?: readonly string[] },
): Promise<void> {
  const catalog = new CatalogRepository(client);
  for (const id of names.ous ?? []) await catalog.putOu(tenant, { id, name: id });
  for (const id of names.groups ?? []) await catalog.putGroup(tenant, { id, name: id });
  for (const id of names.types ?? [])
    await catalog.putType(tenant, { id, name: id, operation: 'auto_wrap_up', businessResult: 'blocked' });
}
