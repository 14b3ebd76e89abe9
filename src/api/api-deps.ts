import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { SecretBox } from '../secret-box.js';
import { ApiKeyRepository } from '../store/api-key-repository.js';
import { AuditRepository, auditLimitsOf } from '../store/audit-repository.js';
import { type AuditSink, AuditWriter } from '../store/audit-writer.js';
import { CatalogRepository } from '../store/catalog-repository.js';
import { ContactPolicyRepository } from '../store/contact-policy-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import { RuleRepository } from '../store/rule-repository.js';
import type { StoreOptions } from '../store/store-options.js';
import type { SyncRegistry } from '../store/sync-registry.js';
import { TenantRepository } from '../store/tenant-repository.js';

/** What the routes need: the Redis repositories, this node's synced engines and the settings. */
export interface ApiDeps {
  readonly config: Pick<Config, 'CALLGUARD_SYSTEM_KEY'>;
  readonly client: RedisClient;
  readonly registry: SyncRegistry;
  readonly tenants: TenantRepository;
  readonly catalog: CatalogRepository;
  readonly policies: ContactPolicyRepository;
  readonly rules: RuleRepository;
  readonly keys: ApiKeyRepository;
  /** Admin changes: recorded off the request path (audit), read back by GET /v1/audit (auditTrail). */
  readonly audit: AuditSink & { close?(): Promise<void> };
  readonly auditTrail: AuditRepository;
  /** Encrypts secrets the API stores (the tenants' webhook secrets); see secretsOf(). */
  readonly secrets?: SecretBox;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * The routes' dependencies with every repository over `client`, on the wall clock. Without
 * `secrets`, a key of this process only (tests, benches): `callguard serve` passes the configured one,
 * which the other nodes share.
 */
export function apiDepsOver(
  parts: Pick<ApiDeps, 'config' | 'client' | 'registry' | 'log'> & {
    readonly store: StoreOptions;
    readonly secrets?: SecretBox;
  },
): ApiDeps {
  const { config, client, registry, log, store } = parts;
  const tenants = new TenantRepository(client, store);
  const auditTrail = new AuditRepository(client);
  const audit = new AuditWriter(
    auditTrail,
    async (tenant) => auditLimitsOf(await tenants.params(tenant)),
    log,
  );
  return {
    config,
    client,
    registry,
    tenants,
    catalog: new CatalogRepository(client, store),
    policies: new ContactPolicyRepository(client, store),
    rules: new RuleRepository(client, store),
    keys: new ApiKeyRepository(client),
    audit,
    auditTrail,
    secrets: parts.secrets ?? processSecretBox(),
    log,
    now: Date.now,
  };
}

let processBox: SecretBox | undefined;
/** A key known to this process only: for deps built without one (tests, benches). */
function processSecretBox(): SecretBox {
  processBox ??= new SecretBox(randomBytes(32));
  return processBox;
}

/** The box that seals what the API stores. */
export const secretsOf = (deps: Pick<ApiDeps, 'secrets'>): SecretBox => deps.secrets ?? processSecretBox();

/** The Fastify instance routes register on: zod schemas give the types. */
export type ApiApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

export type { FastifyReply, FastifyRequest };
