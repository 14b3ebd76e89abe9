import { Readable } from 'node:stream';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { httpSeconds } from '../metrics.js';
import type { ApiApp, ApiDeps } from './api-deps.js';
import { Authenticator } from './auth.js';
import { registerConsoleRoutes } from './console-route.js';
import { errorHandler, notFoundHandler } from './http-errors.js';
import { registerBlocklistRoutes } from './routes/blocklist-routes.js';
import { registerCheckRoutes } from './routes/check-routes.js';
import { registerGroupRoutes } from './routes/group-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerKeyRoutes } from './routes/key-routes.js';
import { registerOuRoutes } from './routes/ou-routes.js';
import { registerParamsRoutes } from './routes/params-routes.js';
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
  registerCheckRoutes,
  registerScreenRoutes,
  registerConsoleRoutes,
];

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
    loggerInstance: deps.log.child({ component: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  }).withTypeProvider<ZodTypeProvider>() as unknown as ApiApp;

  // Streamed bodies (CSV, NDJSON for screen) are read by the handler; only JSON is validated here.
  app.setValidatorCompiler((req) => {
    const validate = validatorCompiler(req as never);
    return (data: unknown) => (data instanceof Readable ? { value: data } : validate(data));
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addContentTypeParser(['text/csv', 'application/x-ndjson', 'text/plain'], (_req, payload, done) =>
    done(null, payload),
  );
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
  // Callback style: a key already verified is resolved without a promise (the check path).
  app.addHook('onRequest', (request, _reply, done) => {
    const need = request.routeOptions.config.auth ?? 'none';
    if (need === 'none') return done();
    try {
      const cached = auth.cached(request, need);
      if (cached) {
        request.principal = cached;
        return done();
      }
    } catch (error) {
      return done(error as Error);
    }
    auth.authenticate(request, need).then((principal) => {
      request.principal = principal;
      done();
    }, done);
  });
  const timers = new Map<string, ReturnType<typeof httpSeconds.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    const status = `${Math.floor(reply.statusCode / 100)}xx`;
    const key = `${request.method} ${route} ${status}`;
    let timer = timers.get(key);
    if (!timer) {
      timer = httpSeconds.labels(route, request.method, status);
      timers.set(key, timer);
    }
    timer.observe(reply.elapsedTime / 1000);
    done();
  });

  // Who may call a route is part of its documentation.
  app.addHook('onRoute', (route) => {
    const need = route.config?.auth ?? 'none';
    if (!route.schema || need === 'none') return;
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

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const register of [...ROUTES, ...(options.routes ?? [])]) register(app, deps, auth);
  await app.ready();
  return app;
}
