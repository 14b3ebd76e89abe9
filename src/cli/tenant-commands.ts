import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { CallguardError } from '../domain/errors.js';
import { ApiKeyRepository } from '../store/api-key-repository.js';
import { redactRedisUrl } from '../store/embedded-redis.js';
import { createRedisClient, type RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { recordOperatorChange } from './operator-audit.js';
import { out } from './output.js';

export async function withRedis<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = createRedisClient({
    url: config.REDIS_URL,
    cluster: config.REDIS_CLUSTER,
    redisOptions: { maxRetriesPerRequest: 2, retryStrategy: (n) => (n > 3 ? null : 100 * n) },
  });
  try {
    try {
      await client.ping();
    } catch {
      throw new CallguardError(
        'CG_ERR_UNAVAILABLE',
        `cannot reach Redis at ${redactRedisUrl(config.REDIS_URL)}; the embedded Redis runs only while callguard serve runs: start it, or set REDIS_URL to your Redis`,
      );
    }
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

export function printKey(
  json: boolean | undefined,
  result: { key: string; record: unknown },
  tenant?: unknown,
) {
  if (json) out(JSON.stringify(tenant ? { tenant, ...result } : result));
  else {
    out(result.key);
    process.stderr.write('the key is shown once; only its SHA-256 is stored\n');
  }
}

/** `callguard tenant create`, directly against Redis (REDIS_URL). */
export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('tenants (directly in Redis, REDIS_URL)');
  tenant
    .command('create')
    .description('create a tenant and its first tenant_admin key (printed once)')
    .argument('<id>', 'tenant id: 1-64 letters, digits, _ . -')
    .option('--name <name>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { name?: string; json?: boolean }) => {
      await withRedis(async (client) => {
        const t = await new TenantRepository(client).create(id, { name: o.name });
        const key = await new ApiKeyRepository(client).create(id, {
          role: 'tenant_admin',
          name: 'first admin',
        });
        await recordOperatorChange(client, id, { kind: 'tenant', action: 'create', target: id, after: t });
        await recordOperatorChange(client, id, {
          kind: 'key',
          action: 'create',
          target: key.record.id,
          after: key.record,
        });
        printKey(o.json, key, t);
      });
    });

  tenant
    .command('list')
    .description('list the tenants (id, name, created)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withRedis(async (client) => {
        const tenants = await new TenantRepository(client).list();
        if (o.json) {
          out(JSON.stringify(tenants));
          return;
        }
        for (const t of tenants) out(`${t.id}\t${t.name}\t${new Date(t.createdAt).toISOString()}`);
        out(`# ${tenants.length} tenant${tenants.length === 1 ? '' : 's'}`);
      });
    });
}
