import type { z } from 'zod';
import type { rawCallSchema } from './call-context.js';

type RawCallOutput = z.output<typeof rawCallSchema>;

/** At most rawCallSchema's bound on numbers and nameSchema's on names. */
const MAX_NUMBER = 256;
const MAX_NAME = 128;

/** Scope and task fields: nameSchema (trimmed, 1..128, no control characters). */
const NAME_FIELDS = new Set(['task', 'sbc', 'provider', 'customerGroup', 'user']);

/** A name that nameSchema takes unchanged: no surrounding white space, no control character. */
export function plainName(s: unknown): boolean {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // \p{Cc}: U+0000-U+001F and U+007F-U+009F
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  // trim() would change it (any Unicode white space at either end): let zod say what it does.
  return s.trim().length === s.length;
}

/**
 * The usual `/v1/check` body, accepted without zod: `called` and `direction`, optionally `calling`
 * and plain task/scope names, nothing else. Returns the body itself when rawCallSchema would give
 * back an equal object, undefined for anything else (the caller then parses with rawCallSchema,
 * which gives the answer or the error message). test/domain/raw-call-fast-path.test.ts checks
 * that for generated bodies this never accepts what zod refuses nor answers differently.
 */
export function plainRawCall(data: unknown): RawCallOutput | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (Object.getPrototypeOf(data) !== Object.prototype) return undefined;
  const body = data as Record<string, unknown>;
  let hasCalled = false;
  let hasDirection = false;
  for (const key in body) {
    if (!Object.hasOwn(body, key)) return undefined;
    const v = body[key];
    if (key === 'called') {
      if (typeof v !== 'string' || v.length > MAX_NUMBER) return undefined;
      hasCalled = true;
    } else if (key === 'direction') {
      if (v !== 'inbound' && v !== 'outbound') return undefined;
      hasDirection = true;
    } else if (key === 'calling') {
      if (typeof v !== 'string' || v.length > MAX_NUMBER) return undefined;
    } else if (!NAME_FIELDS.has(key) || !plainName(v)) {
      return undefined;
    }
  }
  return hasCalled && hasDirection ? (body as RawCallOutput) : undefined;
}
