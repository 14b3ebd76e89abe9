import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiApp } from '../api/api-deps.js';
import { registerHealthRoutes } from '../api/routes/health-routes.js';
import type { RunningRole, ServeContext } from './roles.js';

/**
 * `/healthz`, `/readyz` and `/metrics` for a process that runs no api role (a worker or a call node),
 * on CALLGUARD_HTTP_HOST:CALLGUARD_HEALTH_PORT: the same three routes the api serves, so one health
 * check and one Prometheus scrape fit every role. Off when CALLGUARD_HEALTH_PORT is unset or when the
 * api role runs here (it serves them on its own port).
 */
export async function startHealthServer(ctx: ServeContext): Promise<RunningRole | undefined> {
  const port = ctx.config.CALLGUARD_HEALTH_PORT;
  if (port === undefined || ctx.roles.has('api')) return undefined;
  const app = Fastify({ logger: false, return503OnClosing: true }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerHealthRoutes(app as unknown as ApiApp, ctx);
  const address = await app.listen({ host: ctx.config.CALLGUARD_HTTP_HOST, port });
  ctx.log.info({ address, routes: ['/healthz', '/readyz', '/metrics'] }, 'health server listening');
  return { stop: () => app.close() };
}
