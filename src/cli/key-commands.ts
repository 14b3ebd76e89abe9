import type { Command } from 'commander';
import {
  type ApiKeyInput,
  ApiKeyRepository,
  type ApiKeyView,
  apiKeyInputSchema,
} from '../store/api-key-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { recordOperatorChange } from './operator-audit.js';
import { out, UsageError } from './output.js';
import { printKey, withRedis } from './tenant-commands.js';

const list = (s: string | undefined) =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

function keyInput(o: Record<string, string | undefined>): ApiKeyInput {
  const parsed = apiKeyInputSchema.safeParse({
    name: o.name,
    role: o.role,
    permissions: list(o.permissions),
    ous: list(o.ous),
    expiresAt: o.expires,
    agentId: o.agent,
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const flags: Record<string, string> = { expiresAt: 'expires', agentId: 'agent' };
    const flag = flags[String(i.path[0])] ?? String(i.path[0] ?? 'role');
    throw new UsageError(`--${flag}: ${i.message}`);
  }
  return parsed.data;
}

async function existingTenant(client: RedisClient, tenant: string): Promise<void> {
  if (!(await new TenantRepository(client).get(tenant))) {
    throw new UsageError(`tenant "${tenant}" does not exist (callguard tenant create ${tenant})`);
  }
}

const when = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

function keyLine(k: ApiKeyView): string {
  const rights = k.role === 'agent' ? `${k.permissions.join(',')} ous=${k.ous.join(',') || '-'}` : 'all';
  return [
    k.id,
    k.role,
    k.name ?? '-',
    `expires=${when(k.expiresAt)}`,
    `last-used=${when(k.lastUsedAt)}`,
    rights,
  ].join('\t');
}

/** `callguard key create|list|revoke`, directly against Redis (REDIS_URL), as the operator. */
export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('API keys (directly in Redis, REDIS_URL)');
  key
    .command('create')
    .description('create an API key for a tenant (printed once)')
    .requiredOption('--tenant <id>')
    .option('--role <role>', 'tenant_admin or agent', 'tenant_admin')
    .option('--permissions <list>', 'comma-separated, e.g. rules:read,rules:create (default by role)')
    .option('--ous <list>', 'agents: comma-separated OUs')
    .option('--agent <id>', 'agents: the agent id (CALLGUARD_AGENT) whose pop-up stream the key may open')
    .option('--name <name>')
    .option('--expires <time>', 'when the key stops working, ISO 8601 (e.g. 2027-06-30T00:00:00Z)')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, string | undefined> & { json?: boolean }) => {
      const input = keyInput(o);
      await withRedis(async (client) => {
        await existingTenant(client, o.tenant!);
        const created = await new ApiKeyRepository(client).create(o.tenant!, input);
        await recordOperatorChange(client, o.tenant!, {
          kind: 'key',
          action: 'create',
          target: created.record.id,
          after: created.record,
          ous: created.record.ous,
        });
        printKey(o.json, created);
      });
    });
  key
    .command('list')
    .description("list a tenant's API keys: id, role, name, expiry, last use (never the keys)")
    .requiredOption('--tenant <id>')
    .option('--json', 'print JSON')
    .action(async (o: { tenant: string; json?: boolean }) => {
      await withRedis(async (client) => {
        await existingTenant(client, o.tenant);
        const keys = await new ApiKeyRepository(client).list(o.tenant);
        if (o.json) out(JSON.stringify(keys));
        else for (const k of keys) out(keyLine(k));
      });
    });
  key
    .command('revoke')
    .description('revoke an API key by its id (see key list); it stops working within seconds')
    .argument('<keyId>', 'the key id: 16 hex characters')
    .requiredOption('--tenant <id>')
    .action(async (keyId: string, o: { tenant: string }) => {
      if (!/^[0-9a-f]{16}$/.test(keyId))
        throw new UsageError(`"${keyId}" is not a key id (16 hex characters)`);
      await withRedis(async (client) => {
        await existingTenant(client, o.tenant);
        const keys = new ApiKeyRepository(client);
        const before = await keys.get(o.tenant, keyId);
        if (!before || !(await keys.revoke(o.tenant, keyId))) {
          throw new UsageError(
            `API key ${keyId} does not exist in tenant "${o.tenant}" (callguard key list)`,
          );
        }
        await recordOperatorChange(client, o.tenant, {
          kind: 'key',
          action: 'delete',
          target: keyId,
          before,
          ous: before.ous,
        });
        out(`revoked ${keyId}`);
      });
    });
}
