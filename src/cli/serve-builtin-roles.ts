import { hostname } from 'node:os';
import { apiDepsOver } from '../api/api-deps.js';
import { buildApiApp } from '../api/app.js';
import { withinMs } from '../bounded.js';
import { SecretBox } from '../jobs/secret-box.js';
import { connectedWithin, failFastClient } from '../store/redis-client.js';
import { countingDeciderSource } from './counting-decider-source.js';
import { extraApiRoutes, registerRole, type ServeContext } from './serve-roles.js';

export const storeOptionsOf = (ctx: Pick<ServeContext, 'config'>) => ({
  streamMaxLen: ctx.config.CALLGUARD_STREAM_MAXLEN,
  snapshotEvery: ctx.config.CALLGUARD_SNAPSHOT_EVERY,
});

/** The admin API on CALLGUARD_HTTP_HOST:CALLGUARD_HTTP_PORT. */
registerRole('api', async (serveCtx) => {
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
    { routes: await extraApiRoutes(ctx) },
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
});

/**
 * The Asterisk Stasis app. Built here rather than with startAriService(), which waits for the first
 * connection to Asterisk: an Asterisk that is down must not hold up the other roles or SIGTERM.
 */
registerRole('ari', async (ctx) => {
  const { AriApp } = await import('../pbx/asterisk/ari-app.js');
  const { createAriConnection } = await import('../pbx/asterisk/ari-service.js');
  const app = new AriApp({
    connection: createAriConnection(ctx.config, ctx.log),
    source: countingDeciderSource(ctx.registry, 'ari'),
    events: ctx.events,
    observer: ctx.observer,
    logger: ctx.log,
    defaultTenant: ctx.config.CALLGUARD_DEFAULT_TENANT,
    appName: ctx.config.ARI_APP,
  });
  app.start().then(
    () => ctx.log.info({ url: ctx.config.ARI_URL }, 'connected to Asterisk ARI'),
    (error: unknown) => ctx.log.error({ err: error }, 'ARI app could not start; the ari role is idle'),
  );
  return { stop: () => app.stop() };
});

/** The FreeSWITCH event-socket app (outbound socket server and/or inbound client, by ESL_MODE). */
registerRole('esl', async (ctx) => {
  const { FreeswitchApp } = await import('../pbx/freeswitch/freeswitch-app.js');
  const { RedisCallClaims } = await import('../pbx/freeswitch/call-claims.js');
  const app = new FreeswitchApp({
    // several nodes in inbound mode: one screens each parked call
    claims: new RedisCallClaims(ctx.client, `${hostname()}:${process.pid}`, ctx.log),
    config: ctx.config,
    source: countingDeciderSource(ctx.registry, 'esl'),
    events: ctx.events,
    observer: ctx.observer,
    logger: ctx.log,
  });
  await app.start();
  return { stop: () => app.drain() };
});
