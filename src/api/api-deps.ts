import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ApiKeyRepository } from '../store/api-key-repository.js';
import type { CatalogRepository } from '../store/catalog-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import type { RuleRepository } from '../store/rule-repository.js';
import type { SyncRegistry } from '../store/sync-registry.js';
import type { TenantRepository } from '../store/tenant-repository.js';

/** What the routes need: the Redis repositories, this node's synced engines and the settings. */
export interface ApiDeps {
  readonly config: Pick<Config, 'CALLGUARD_SYSTEM_KEY'>;
  readonly client: RedisClient;
  readonly registry: SyncRegistry;
  readonly tenants: TenantRepository;
  readonly catalog: CatalogRepository;
  readonly rules: RuleRepository;
  readonly keys: ApiKeyRepository;
  readonly log: Logger;
  readonly now: () => number;
}

/** The Fastify instance routes register on: zod schemas give the types. */
export type ApiApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

export type { FastifyReply, FastifyRequest };
