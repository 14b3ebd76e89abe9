import type { FastifyRequest } from 'fastify';
import { cgError } from '../domain/errors.js';

/** What a route accepts as its request body, in its `config`. */
export interface RouteBodyTypes {
  /**
   * Media types the route takes (without parameters). Default: application/json only. Only routes
   * documented to take CSV, NDJSON or multipart name them here, and read and validate them themselves.
   */
  readonly bodyTypes?: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteBodyTypes {}
}

export const JSON_ONLY: readonly string[] = ['application/json'];

/** The media type of a content-type header, lower case, without parameters ('' when absent). */
export const mediaTypeOf = (header: string | undefined): string =>
  (header ?? '').split(';')[0]!.trim().toLowerCase();

/** True when the request carries a body (a length above zero, or a chunked one). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}

/**
 * Refuses, before a byte of it is read, a body of a type the route does not take (415): a text/plain
 * body must never reach a JSON route as an unvalidated stream. A request without a body passes (its
 * route's schema says whether one is required). Returns the error, or undefined when the body may go on.
 */
export function bodyTypeCheck(accepted: readonly string[]) {
  const list = accepted.join(', ');
  return (request: FastifyRequest): Error | undefined => {
    if (!hasBody(request)) return undefined;
    const header = request.headers['content-type'];
    // hot path: the usual header needs no parsing
    if (header === 'application/json' && accepted.includes(header)) return undefined;
    const type = mediaTypeOf(header);
    if (accepted.includes(type)) {
      // a body in another encoding would be read as UTF-8 and stored garbled
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header ?? '')?.[1]?.toLowerCase();
      if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return undefined;
      return cgError(
        'CG_ERR_UNSUPPORTED_MEDIA_TYPE',
        `charset ${charset} is not accepted: send the body as UTF-8 (charset=utf-8, or no charset)`,
        { contentType: type, charset },
      );
    }
    return cgError(
      'CG_ERR_UNSUPPORTED_MEDIA_TYPE',
      type === ''
        ? `the request body has no content-type; this endpoint accepts ${list}`
        : `content-type ${type} is not accepted by this endpoint; it accepts ${list}`,
      { contentType: type || null, accepted },
    );
  };
}
