import { apiDepsOver } from '../api/api-deps.js';
import { buildApiApp } from '../api/app.js';
import { withinMs } from '../bounded.js';
import { SecretBox } from '../secret-box.js';
import { connectedWithin, failFastClient } from '../store/redis-client.js';
import { featureRoutesOf } from './api-routes.js';
import { type RoleStarter, storeOptionsOf } from './roles.js';

/** The admin API on CALLGUARD_HTTP_HOST:CALLGUARD_HTTP_PORT, with the routes of every feature. */
export const startApiRole: RoleStarter = async (serveCtx) => {
  // Requests get a connection that fails fast while Redis is away (503 within a second).
  const ctx = { ...serveCtx, client: failFastClient(serveCtx.client, serveCtx.log) };
  await connectedWithin(ctx.client, 5_000);
  const app = await buildApiApp(
    apiDepsOver({
      config: ctx.config,
      client: ctx.client,
      registry: ctx.registry,
      log: ctx.log,
      store: storeOptionsOf(ctx),
      secrets: SecretBox.fromConfig(ctx.config),
    }),
    { routes: await featureRoutesOf(ctx) },
  );
  const address = await app.listen({
    host: ctx.config.CALLGUARD_HTTP_HOST,
    port: ctx.config.CALLGUARD_HTTP_PORT,
  });
  ctx.log.info({ address, docs: `${address}/docs` }, 'admin API listening');
  return {
    stop: async () => {
      // In-flight requests end within the API's command timeout; the bound is for anything else.
      await withinMs(app.close(), 5_000);
      ctx.client.disconnect();
    },
  };
};
