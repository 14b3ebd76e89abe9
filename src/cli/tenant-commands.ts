import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { CallguardError } from '../domain/errors.js';
import { type ApiKeyInput, ApiKeyRepository, apiKeyInputSchema } from '../store/api-key-repository.js';
import { redactRedisUrl } from '../store/embedded-redis.js';
import { createRedisClient, type RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { out, UsageError } from './output.js';

const list = (s: string | undefined) =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

async function withRedis<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
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

function keyInput(o: Record<string, string | undefined>): ApiKeyInput {
  const parsed = apiKeyInputSchema.safeParse({
    name: o.name,
    role: o.role,
    permissions: list(o.permissions),
    ous: list(o.ous),
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`--${String(i.path[0] ?? 'role')}: ${i.message}`);
  }
  return parsed.data;
}

function printKey(json: boolean | undefined, result: { key: string; record: unknown }, tenant?: unknown) {
  if (json) out(JSON.stringify(tenant ? { tenant, ...result } : result));
  else {
    out(result.key);
    process.stderr.write('the key is shown once; only its SHA-256 is stored\n');
  }
}

/** `callguard tenant create` and `callguard key create`, directly against Redis (REDIS_URL). */
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
        printKey(
          o.json,
          await new ApiKeyRepository(client).create(id, { role: 'tenant_admin', name: 'first admin' }),
          t,
        );
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

  program
    .command('key')
    .description('API keys (directly in Redis, REDIS_URL)')
    .command('create')
    .description('create an API key for a tenant (printed once)')
    .requiredOption('--tenant <id>')
    .option('--role <role>', 'tenant_admin or agent', 'tenant_admin')
    .option('--permissions <list>', 'comma-separated, e.g. rules:read,rules:create (default by role)')
    .option('--ous <list>', 'agents: comma-separated OUs')
    .option('--name <name>')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, string | undefined> & { json?: boolean }) => {
      const input = keyInput(o);
      await withRedis(async (client) => {
        if (!(await new TenantRepository(client).get(o.tenant!))) {
          throw new UsageError(`tenant "${o.tenant}" does not exist (callguard tenant create ${o.tenant})`);
        }
        printKey(o.json, await new ApiKeyRepository(client).create(o.tenant!, input));
      });
    });
}
