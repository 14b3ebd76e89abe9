import type { z } from 'zod';
import { cgError } from '../domain/errors.js';
import type { RedisClient } from './redis-client.js';

/** Validates input against a schema with the house error (CG_ERR_INPUT_INVALID naming each field). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw cgError(
    'CG_ERR_INPUT_INVALID',
    `${what} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ')}`,
  );
}

/** Small per-tenant object sets (OUs, groups, types) as one hash id → JSON. */
export async function readHashObjects<S extends z.ZodType>(
  client: RedisClient,
  key: string,
  schema: S,
): Promise<Array<z.infer<S>>> {
  const all = await client.hgetall(key);
  return Object.keys(all)
    .sort()
    .flatMap((id) => {
      const parsed = schema.safeParse(JSON.parse(all[id]!));
      return parsed.success ? [parsed.data] : [];
    });
}

export async function readHashObject<S extends z.ZodType>(
  client: RedisClient,
  key: string,
  id: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  const json = await client.hget(key, id);
  if (json === null) return undefined;
  const parsed = schema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : undefined;
}
