import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgError } from '../domain/errors.js';
import type { ApiApp, FastifyReply, FastifyRequest } from './api-deps.js';

/** Where `npm run build:console` writes the web console (console/dist, not in git). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));
export const CONSOLE_PREFIX = '/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console loads nothing from elsewhere and talks only to this server's /v1 API; the policy makes
 * the browser hold it to that (no inline script, no third-party request, not framed).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export interface ConsoleRouteOptions {
  /** The built console; default console/dist of this checkout. */
  readonly dir?: string;
}

async function fileAt(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the web console (a static single-page app) at /console with a handler of its own rather
 * than @fastify/static: a dozen lines, no extra dependency, and it refuses anything outside the
 * folder. Public like /docs: the page holds no data, the API key is asked for in the page.
 */
export function serveConsole(app: ApiApp, options: ConsoleRouteOptions = {}): void {
  // Registered by the API app and possibly again by a caller that passes it in `routes`: once is enough.
  if (app.hasRoute({ method: 'GET', url: CONSOLE_PREFIX })) return;
  const root = resolve(options.dir ?? CONSOLE_DIST);
  const index = join(root, 'index.html');

  const send = async (reply: FastifyReply, path: string, size: number, immutable: boolean) => {
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    return reply
      .headers(SECURITY_HEADERS)
      .header('content-type', type)
      .header('content-length', size)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(path));
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const rest = ((request.params as Record<string, string | undefined>)['*'] ?? '').split('?')[0]!;
    let rel: string;
    try {
      rel = decodeURIComponent(rest);
    } catch {
      throw cgError('CG_ERR_NOT_FOUND', `no console file ${rest}`);
    }
    if (rel.includes('\0') || rel.split(/[\\/]/).includes('..')) {
      throw cgError('CG_ERR_NOT_FOUND', `no console file ${rest}`);
    }
    if (rel !== '' && rel !== 'index.html') {
      const path = resolve(root, rel);
      if (path.startsWith(root + sep)) {
        const size = await fileAt(path);
        if (size !== undefined) return send(reply, path, size, rel.startsWith('assets/'));
      }
      // A missing asset is a 404; any other path is a page of the app, which routes in the browser.
      if (extname(rel) !== '') throw cgError('CG_ERR_NOT_FOUND', `no console file ${rest}`);
    }
    const size = await fileAt(index);
    if (size === undefined) {
      throw cgError(
        'CG_ERR_UNAVAILABLE',
        'the web console is not built on this server; run npm run build:console (npm start does it)',
      );
    }
    return send(reply, index, size, false);
  };

  const route = { schema: { hide: true }, config: { auth: 'none' as const } };
  app.get(CONSOLE_PREFIX, route, handler);
  app.get(`${CONSOLE_PREFIX}/*`, route, handler);
}

/** As a route module of the API app (the `ROUTES` list or `buildApiApp`'s `routes` option). */
export const registerConsoleRoutes = (app: ApiApp): void => serveConsole(app);
