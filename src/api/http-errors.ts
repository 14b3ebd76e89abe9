import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CallguardError, cgError, type ErrorCode, errorCatalogue } from '../domain/errors.js';
import { RuleInputError, ruleInputErrorToCg } from '../domain/rule-input.js';
import type { Logger } from '../log.js';

/** The body of every error response. */
export const errorBodySchema = z
  .object({
    code: z.enum(Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' });

interface Issue {
  readonly path: string;
  readonly message: string;
}

const PART: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/** zod's "expected string, received undefined" says it better as "required". */
const readable = (message: string): string =>
  message.replace(/^Invalid input: expected (.+), received undefined$/, 'required: $1');

function issuesOf(error: { validation: Array<{ instancePath?: string; message?: string }> }, part: string) {
  return error.validation.map(
    (v): Issue => ({
      path: [part, ...(v.instancePath ?? '').split('/').filter(Boolean)].join('.'),
      message: readable(v.message ?? 'is not valid'),
    }),
  );
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'CG_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'CG_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'CG_ERR_INPUT_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'CG_ERR_INPUT_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'CG_ERR_INPUT_INVALID',
};

const REDIS_DOWN =
  /Connection is closed|MaxRetriesPerRequest|max retries per request|ECONNREFUSED|Stream isn't writeable|ETIMEDOUT|Command timed out|enableOfflineQueue|Connection is in subscriber mode|ENOTCONN|EHOSTUNREACH|ECONNRESET/i;

/** 1048576 → "1 MiB (1,048,576 bytes)": a limit a person can read and a client can compare against. */
export function bytesText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const readable = mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${readable} (${bytes.toLocaleString('en')} bytes)`;
}

/**
 * Any error → the catalogue's `{ code, message, details }`. Bad input is never a 5xx. `bodyLimit`: the
 * route's body limit in bytes, stated in a 413's message and details.
 */
export function toCallguardError(error: unknown, bodyLimit?: number): CallguardError {
  if (error instanceof CallguardError) return error;
  if (error instanceof RuleInputError) return ruleInputErrorToCg(error);
  const e = error as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(e)) {
    const part = PART[e.validationContext ?? 'body'] ?? 'body';
    const issues = issuesOf(e as never, part);
    return cgError('CG_ERR_INPUT_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
      issues,
    });
  }
  if (e.validation) {
    const issues = issuesOf(e as never, PART[e.validationContext ?? 'body'] ?? 'body');
    return cgError('CG_ERR_INPUT_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
      issues,
    });
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped === 'CG_ERR_PAYLOAD_TOO_LARGE') {
    return bodyLimit
      ? cgError(
          'CG_ERR_PAYLOAD_TOO_LARGE',
          `the request body is larger than the ${bytesText(bodyLimit)} this endpoint accepts; send less per request`,
          { limitBytes: bodyLimit },
        )
      : cgError(
          'CG_ERR_PAYLOAD_TOO_LARGE',
          `the request body is larger than this endpoint accepts (${e.message})`,
        );
  }
  if (mapped === 'CG_ERR_UNSUPPORTED_MEDIA_TYPE') {
    return cgError('CG_ERR_UNSUPPORTED_MEDIA_TYPE', `${e.message}; send application/json`);
  }
  if (mapped || e instanceof SyntaxError) {
    return cgError('CG_ERR_INPUT_INVALID', `the request body is not valid JSON: ${e.message}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode = e.statusCode === 413 ? 'CG_ERR_PAYLOAD_TOO_LARGE' : 'CG_ERR_INPUT_INVALID';
    return cgError(code, e.message);
  }
  if (REDIS_DOWN.test(`${e.name ?? ''} ${e.message ?? ''}`)) {
    return cgError('CG_ERR_UNAVAILABLE', 'the rule store (Redis) is not reachable; try again shortly');
  }
  return cgError('CG_ERR_INTERNAL', 'internal error; the server log has the details');
}

/** A request's URL as it may be logged: a key given in the query string (`?key=`, for EventSource) hidden. */
export function loggableUrl(url: string): string {
  return url.replace(/([?&]key=)[^&#]*/gi, '$1[redacted]');
}

export function errorHandler(log: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const cg = toCallguardError(error, request.routeOptions?.bodyLimit);
    if (cg.status >= 500)
      log.error({ err: error, url: loggableUrl(request.url), method: request.method }, 'request failed');
    return reply.code(cg.status).type('application/json').send(JSON.stringify(cg.toJSON()));
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const cg = cgError(
    'CG_ERR_NOT_FOUND',
    `no route ${request.method} ${request.url.split('?')[0]}; the API is described at /openapi.json`,
  );
  return reply.code(404).type('application/json').send(JSON.stringify(cg.toJSON()));
}
