import { hostname } from 'node:os';
import { countingDeciderSource } from '../pbx/counting-decider-source.js';
import type { RoleStarter } from './roles.js';

/**
 * The Asterisk Stasis app. Built here rather than with startAriService(), which waits for the first
 * connection to Asterisk: an Asterisk that is down must not hold up the other roles or SIGTERM.
 */
export const startAriRole: RoleStarter = async (ctx) => {
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
};

/** The FreeSWITCH event-socket app (outbound socket server and/or inbound client, by ESL_MODE). */
export const startEslRole: RoleStarter = async (ctx) => {
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
};
