import { Readable } from 'node:stream';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';

/**
 * A route's validator compiler whose body check first tries `plain`, a hand-written check of the
 * usual body that returns the body when its zod schema would give back an equal value and undefined
 * otherwise; anything else (and every other part of the request) goes through the zod schema, which
 * answers it or says what is wrong. Streamed bodies (CSV, NDJSON) pass, as in the app's compiler.
 * Each `plain` has a fast-check test against its schema.
 */
export function fastBodyValidator(plain: (data: unknown) => unknown): FastifySchemaCompiler<FastifySchema> {
  return (route) => {
    const bySchema = validatorCompiler(route as never);
    if (route.httpPart !== 'body') return bySchema;
    return (data: unknown) => {
      if (data instanceof Readable) return { value: data };
      const value = plain(data);
      return value === undefined ? bySchema(data) : { value };
    };
  };
}
