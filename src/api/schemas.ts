import { z } from 'zod';
import { cgError } from '../domain/errors.js';
import { errorBodySchema } from './http-errors.js';

/**
 * A whole number written in a query string or a path: decimal digits only (z.coerce.number would
 * also read 0x10, 1e1 and " 1 "), within [min, max], with a message that says so.
 */
export function wholeNumberText(min: number, max: number) {
  const accepted = `a whole number from ${min} to ${max}`;
  return z
    .string({ error: accepted })
    .regex(/^\d{1,16}$/, accepted)
    .transform(Number)
    .pipe(z.number().int().min(min, accepted).max(max, accepted));
}

/** Cursor pagination: `limit` items after `cursor` (opaque, from the previous page's `next`). */
export const pageQueryShape = {
  limit: wholeNumberText(1, 1000).default(100).describe('Items per page, 1-1000.'),
  cursor: z.string().min(1).max(512).optional().describe('The `next` of the previous page.'),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int().describe('Items matching the query, over all pages.'),
    next: z.string().optional().describe('Cursor of the next page; absent on the last page.'),
  });

/** Error responses every authenticated route may give. */
export const errorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  413: errorBodySchema,
  422: errorBodySchema,
};

export const encodeCursor = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (check(v)) return v;
  } catch {
    // fall through
  }
  throw cgError(
    'CG_ERR_INPUT_INVALID',
    'query.cursor: not a cursor this API gave out; pass back `next` unchanged',
  );
}

/** One page of items with string ids, sorted by id (the small per-tenant catalogues). */
export function pageById<T extends { id: string }>(
  all: readonly T[],
  limit: number,
  cursor: string | undefined,
): { items: T[]; total: number; next?: string } {
  const after = decodeCursor(cursor, (v): v is string => typeof v === 'string');
  const sorted = [...all].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex((x) => x.id > after);
  const from = start < 0 ? sorted.length : start;
  const items = sorted.slice(from, from + limit);
  const more = from + limit < sorted.length;
  return {
    items,
    total: sorted.length,
    ...(more ? { next: encodeCursor(items[items.length - 1]!.id) } : {}),
  };
}
