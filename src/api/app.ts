import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { cgError } from '../domain/errors.js';
import { httpSeconds } from '../metrics.js';
import type { HistogramSeries } from '../plain-histogram.js';
import type { ApiApp, ApiDeps } from './api-deps.js';
import { Authenticator, type RouteAuth } from './auth.js';
import { bodyTypeCheck, JSON_ONLY } from './body-types.js';
import { registerConsoleRoutes } from './console-route.js';
import { errorHandler, notFoundHandler } from './http-errors.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerBlocklistRoutes } from './routes/blocklist-routes.js';
import { registerCheckRoutes } from './routes/check-routes.js';
import { registerContactPolicyRoutes } from './routes/contact-policy-routes.js';
import { registerGroupRoutes } from './routes/group-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerKeyRoutes } from './routes/key-routes.js';
import { registerOuRoutes } from './routes/ou-routes.js';
import { registerParamsRoutes } from './routes/params-routes.js';
import { registerPolicySetRoutes } from './routes/policy-set-routes.js';
import { registerRuleRoutes } from './routes/rule-routes.js';
import { registerScreenRoutes } from './routes/screen-routes.js';
import { registerTaskRoutes } from './routes/task-routes.js';
import { registerTenantRoutes } from './routes/tenant-routes.js';
import { registerTypeRoutes } from './routes/type-routes.js';

/** Bodies above this are refused with 413 (screen raises it for its route). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A route module: registers its routes on the app. New resources add one and list it in ROUTES. */
export type RouteModule = (app: ApiApp, deps: ApiDeps, auth: Authenticator) => void;

export const ROUTES: readonly RouteModule[] = [
  registerHealthRoutes,
  registerTenantRoutes,
  registerKeyRoutes,
  registerParamsRoutes,
  registerOuRoutes,
  registerGroupRoutes,
  registerTypeRoutes,
  registerRuleRoutes,
  registerBlocklistRoutes,
  registerTaskRoutes,
  registerContactPolicyRoutes,
  registerPolicySetRoutes,
  registerCheckRoutes,
  registerScreenRoutes,
  registerAuditRoutes,
  registerConsoleRoutes,
];

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

type Need = NonNullable<RouteAuth['auth']>;

/**
 * Who is calling, then (one hook, not two) what it sends: `then` runs once the caller is known.
 * Callback style: a key already verified is resolved without a promise (the check path).
 */
function authHook(
  auth: Authenticator,
  need: Need,
  then: (request: FastifyRequest) => Error | undefined,
  time: (reply: FastifyReply) => void,
) {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    time(reply);
    try {
      const cached = auth.cached(request, need);
      if (cached) {
        request.principal = cached;
        return done(then(request));
      }
    } catch (error) {
      return done(error as Error);
    }
    auth.authenticate(request, need).then((principal) => {
      request.principal = principal;
      done(then(request));
    }, done);
  };
}

/** bodyTypeCheck as the onRequest hook of a public route, timed like the others. */
function publicHook(
  then: (request: FastifyRequest) => Error | undefined,
  time: (reply: FastifyReply) => void,
) {
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    time(reply);
    done(then(request));
  };
}

/**
 * HTTP time per route, method and status class, from the route's onRequest hook to the response's
 * 'finish'. One listener on the response, not an onResponse hook: that one makes Fastify add and
 * remove two listeners and run a hook chain per request (docs/DECISIONS.md). The label children are
 * made once.
 */
function requestTimer(url: string, method: string): (reply: FastifyReply) => void {
  const timers: Array<HistogramSeries | undefined> = [];
  const seriesOf = (status: number): HistogramSeries => {
    const cls = Math.floor(status / 100);
    let timer = timers[cls];
    if (!timer) {
      timer = httpSeconds.labels(url, method, `${cls}xx`);
      timers[cls] = timer;
    }
    return timer;
  };
  return (reply) => {
    const res = reply.raw;
    const t0 = performance.now();
    let timed = false;
    // Once per request: an injected response (light-my-request) emits 'finish' twice.
    res.on('finish', () => {
      if (timed) return;
      timed = true;
      seriesOf(res.statusCode).observe((performance.now() - t0) / 1000);
    });
  };
}

/** One registered route, as the start-up checks saw it (tests walk every route with it). */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly auth: NonNullable<RouteAuth['auth']>;
  readonly bodyTypes: readonly string[];
}
const registered = new WeakMap<object, RegisteredRoute[]>();

/** Every route of an app built by buildApiApp, HEAD twins included. */
export const registeredRoutes = (app: ApiApp): readonly RegisteredRoute[] => registered.get(app) ?? [];

/** Routes added by a plugin that cannot take a config (the Swagger UI under /docs): public by name. */
const PLUGIN_PUBLIC_PREFIXES = ['/docs'];
const publicByPlugin = (url: string): 'none' | undefined =>
  PLUGIN_PUBLIC_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`)) ? 'none' : undefined;

export interface BuildApiOptions {
  /** Extra route modules (the bulk-jobs routes plug in here). */
  readonly routes?: readonly RouteModule[];
  /** Serve /docs (Swagger UI); default true. */
  readonly docs?: boolean;
}

/**
 * The admin API. One zod schema per resource validates requests and, through @fastify/swagger,
 * makes the OpenAPI document at /openapi.json. Responses are written with JSON.stringify: the
 * handlers build them from already-typed values, and a schema-driven serialiser per response would
 * cost the check path a third of its throughput (docs/DECISIONS.md).
 */
export async function buildApiApp(deps: ApiDeps, options: BuildApiOptions = {}): Promise<ApiApp> {
  const app = Fastify({
    // No Fastify logger: it would make a pino child per request. Failures are logged by the error
    // handler with deps.log; requests are counted and timed in /metrics.
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // Errors before a route is found (a path that is not valid percent-encoding) in the same shape
    frameworkErrors: (error, request, reply) => errorHandler(deps.log)(error, request, reply),
  }).withTypeProvider<ZodTypeProvider>() as unknown as ApiApp;

  // Streamed bodies (CSV, NDJSON for screen) are read and checked by the handler of the one route that
  // lists them in config.bodyTypes; every other route refuses them with 415 before parsing (bodyTypeCheck, in each route's onRequest hook).
  app.setValidatorCompiler((req) => {
    const validate = validatorCompiler(req as never);
    return (data: unknown) => (data instanceof Readable ? { value: data } : validate(data));
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON is read as bytes and checked to be UTF-8 first: the default parser decodes invalid bytes to
  // U+FFFD, and a rule's remarks were stored garbled without a word.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (!isUtf8(body as Buffer)) {
      done(
        cgError('CG_ERR_INPUT_INVALID', 'the request body is not UTF-8 text; send JSON encoded as UTF-8'),
        undefined,
      );
      return;
    }
    parseJson(request, (body as Buffer).toString('utf8'), done);
  });
  app.addContentTypeParser(['text/csv', 'application/x-ndjson'], (_req, payload, done) =>
    done(null, payload),
  );
  // Declared, so that setting it per request keeps every request object of one shape (V8 hidden
  // class): a property added later makes Fastify's own accesses to requests megamorphic.
  app.decorateRequest('principal', undefined);
  app.setErrorHandler(errorHandler(deps.log));
  app.setNotFoundHandler(notFoundHandler);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'callguard admin API',
        description:
          'Call blocklist / allowlist rules, tenants, task bindings, check and screen. Errors are `{ code, message, details }`.',
        version: '1',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  if (options.docs !== false) await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const auth = new Authenticator(deps);
  const routeList: RegisteredRoute[] = [];
  registered.set(app, routeList);
  // Auth and timing are attached to each route as it is added, with what they need captured once:
  // nothing per request asks the route for its options (request.routeOptions builds an object).
  app.addHook('onRoute', (route) => {
    const need = route.config?.auth ?? publicByPlugin(route.url);
    if (need === undefined) {
      // Deny by default: a route that forgot to say who may call it must not go live as a public one.
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no config.auth; say 'none' for a public route`,
      );
    }
    const bodyTypes = route.config?.bodyTypes ?? JSON_ONLY;
    for (const method of asArray(route.method))
      routeList.push({ method, url: route.url, auth: need, bodyTypes });
    // Who is calling first (401/403 before anything about the body), then what it sends.
    const time = requestTimer(route.url, Array.isArray(route.method) ? route.method.join(',') : route.method);
    const check = bodyTypeCheck(bodyTypes);
    const onRequest = [need === 'none' ? publicHook(check, time) : authHook(auth, need, check, time)];
    route.onRequest = [...asArray(route.onRequest), ...onRequest] as typeof route.onRequest;
    if (!route.schema || need === 'none') return;
    // Who may call a route is part of its documentation.
    const who =
      need === 'system'
        ? 'the system key (CALLGUARD_SYSTEM_KEY)'
        : need === 'any'
          ? 'any API key of the tenant'
          : need === 'tenant_admin'
            ? 'a tenant_admin key'
            : `a key with the ${need} permission`;
    route.schema.description = `${route.schema.description ? `${route.schema.description} ` : ''}Needs ${who}.`;
  });

  // Entries recorded by the last requests are written before the server goes away.
  app.addHook('onClose', async () => deps.audit.close?.());
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'none' } }, async () => app.swagger());
  for (const register of [...ROUTES, ...(options.routes ?? [])]) register(app, deps, auth);
  await app.ready();
  return app;
}
