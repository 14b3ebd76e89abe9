import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { cgError } from '../domain/errors.js';
import { nameSchema } from '../domain/rule.js';
import { parseInput } from './hash-objects.js';
import { TENANT_ID, tenantKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

export const PERMISSIONS = [
  'rules:read',
  'rules:create',
  'rules:update',
  'rules:delete',
  'rules:import',
  'rules:export',
  'groups:manage',
  'types:manage',
  'tasks:bind',
  'params:manage',
  'servers:manage',
] as const;
export const permissionSchema = z.enum(PERMISSIONS);
export type Permission = z.infer<typeof permissionSchema>;

export const roleSchema = z.enum(['tenant_admin', 'agent']);
export type Role = z.infer<typeof roleSchema>;

/** What an agent gets when no permissions are given: reading rules. An admin gets every permission. */
export const DEFAULT_PERMISSIONS: Record<Role, readonly Permission[]> = {
  tenant_admin: PERMISSIONS,
  agent: ['rules:read'],
};

/** An agent id as the dialplan sets it in CALLGUARD_AGENT (and as it appears in a URL path). */
export const agentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,128}$/, '1-128 letters, digits or _ . @ -')
  // a path segment of its stream's URL: "." and ".." would be folded away by every client
  .refine((id) => id !== '.' && id !== '..', 'not "." or "..": it names a path segment');

/** A key as created: the role, the explicit permissions and, for agents, the OUs it may touch. */
export const apiKeyInputSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .optional()
      .describe('A label for people: who or what uses the key.'),
    role: roleSchema.default('tenant_admin'),
    permissions: z
      .array(permissionSchema)
      .max(PERMISSIONS.length * 2)
      .optional()
      .describe('Explicit permissions; default: every permission for tenant_admin, rules:read for agent.'),
    ous: z
      .array(nameSchema)
      .max(1000)
      .optional()
      .describe('Agents: the OUs whose rules the key sees when the tenant has data isolation on.'),
    expiresAt: z.iso
      .datetime({ offset: true, message: 'an ISO 8601 date and time such as 2027-06-30T00:00:00Z' })
      .optional()
      .describe('When the key stops working (ISO 8601); none: it works until revoked.'),
    agentId: agentIdSchema
      .optional()
      .describe(
        "Agents: the agent id the dialplan sets in CALLGUARD_AGENT; the key may open that agent's pop-up stream (GET /v1/agents/{agentId}/events).",
      ),
  })
  .strict();
export type ApiKeyInput = z.input<typeof apiKeyInputSchema>;

/** A key as stored and listed: never the key itself, only its SHA-256. */
export const apiKeyRecordSchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    name: z.string().optional(),
    role: roleSchema,
    permissions: z.array(permissionSchema),
    ous: z.array(z.string()),
    agentId: z.string().optional(),
    createdAt: z.number().int(),
    expiresAt: z.number().int().optional().describe('When the key stops working (epoch ms).'),
  })
  .strict();
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/** A key as listed: its record and when it was last used (to the minute; absent: never). */
export const apiKeyViewSchema = apiKeyRecordSchema
  .extend({ lastUsedAt: z.number().int().optional().describe('Last use (epoch ms, to the minute).') })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

const KEY_PREFIX = 'cgk';

/**
 * SHA-256 hex of a presented key: the only form a key is stored in. Every API request hashes its key,
 * so the one-shot crypto.hash (Node 20.12+; a fifth of createHash's cost) is used where it exists.
 */
export const hashApiKey: (key: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (key) => nodeCrypto.hash('sha256', key, 'hex')
    : (key) => createHash('sha256').update(key).digest('hex');

/**
 * The tenant a key names. Keys read `cgk.<tenant>.<43 base64url characters>` so that a lookup goes
 * straight to the tenant's own keys (one hash tag) without a global index.
 */
export function tenantOfKey(key: string): string | undefined {
  if (!key.startsWith(`${KEY_PREFIX}.`)) return undefined;
  const dot = key.lastIndexOf('.');
  if (dot <= KEY_PREFIX.length) return undefined;
  const tenant = key.slice(KEY_PREFIX.length + 1, dot);
  const secret = key.slice(dot + 1);
  if (!TENANT_ID.test(tenant) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return tenant;
}

/** A damaged record reads as no record (the key does not work), never as a server error. */
function parseJson(json: string | null): unknown {
  if (!json) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

const apiKeysKey = (tenant: string): string => tenantKeys(tenant).apiKeys;

/** API keys in Redis, under the tenant's hash tag. The plain key is returned once, at creation. */
export class ApiKeyRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly now: () => number = Date.now,
  ) {}

  async create(tenant: string, input: ApiKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const parsed = parseInput(apiKeyInputSchema, input, 'API key');
    const expiresAt = parsed.expiresAt === undefined ? undefined : Date.parse(parsed.expiresAt);
    if (expiresAt !== undefined && expiresAt <= this.now()) {
      throw cgError('CG_ERR_INPUT_INVALID', `expiresAt: ${parsed.expiresAt} is not in the future`);
    }
    const key = `${KEY_PREFIX}.${tenant}.${randomBytes(32).toString('base64url')}`;
    const hash = hashApiKey(key);
    const record: ApiKeyRecord = {
      id: hash.slice(0, 16),
      tenant,
      ...(parsed.name === undefined ? {} : { name: parsed.name }),
      role: parsed.role,
      permissions: [...new Set(parsed.permissions ?? DEFAULT_PERMISSIONS[parsed.role])].sort(),
      ous: parsed.role === 'agent' ? [...new Set(parsed.ous ?? [])].sort() : [],
      ...(parsed.role === 'agent' && parsed.agentId !== undefined ? { agentId: parsed.agentId } : {}),
      createdAt: this.now(),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    await this.client.hset(apiKeysKey(tenant), hash, JSON.stringify(record));
    return { key, record };
  }

  /** The record of a presented key, or undefined (unknown, revoked or malformed). */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const tenant = tenantOfKey(key);
    if (!tenant) return undefined;
    const json = await this.client.hget(apiKeysKey(tenant), hashApiKey(key));
    const parsed = apiKeyRecordSchema.safeParse(parseJson(json));
    return parsed.success && parsed.data.tenant === tenant ? parsed.data : undefined;
  }

  async list(tenant: string): Promise<ApiKeyView[]> {
    const [all, used] = await Promise.all([
      this.client.hgetall(apiKeysKey(tenant)),
      this.client.hgetall(tenantKeys(tenant).apiKeysUsed),
    ]);
    return Object.entries(all)
      .flatMap(([hash, json]) => {
        const parsed = apiKeyRecordSchema.safeParse(parseJson(json));
        if (!parsed.success) return [];
        const lastUsedAt = Number(used[hash]);
        return [Number.isFinite(lastUsedAt) && lastUsedAt > 0 ? { ...parsed.data, lastUsedAt } : parsed.data];
      })
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** The key with this id, as listed; undefined when there is none. */
  async get(tenant: string, id: string): Promise<ApiKeyView | undefined> {
    return (await this.list(tenant)).find((k) => k.id === id);
  }

  /** Whether the key with this id still exists (not revoked); one read of the key hashes. */
  async isLive(tenant: string, id: string): Promise<boolean> {
    return (await this.client.hkeys(apiKeysKey(tenant))).some((hash) => hash.startsWith(id));
  }

  /** Notes that a key was used now (the caller writes at most once a minute a key). */
  async touch(tenant: string, keyHash: string): Promise<void> {
    await this.client.hset(tenantKeys(tenant).apiKeysUsed, keyHash, String(this.now()));
  }

  /** Revokes a key by its id (the first 16 hex characters of its hash). */
  async revoke(tenant: string, id: string): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(id)) throw cgError('CG_ERR_NOT_FOUND', `API key ${id} does not exist`);
    const all = await this.client.hkeys(apiKeysKey(tenant));
    const hash = all.find((h) => h.startsWith(id));
    if (!hash) return false;
    await this.client.hdel(tenantKeys(tenant).apiKeysUsed, hash);
    return (await this.client.hdel(apiKeysKey(tenant), hash)) === 1;
  }
}
