import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { extraApiRoutes, type ServeContext } from '../../src/cli/serve-roles.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import '../../src/notify/serve-notify.js';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';

describe.skipIf(skipWithoutRedis)('serve: the notify routes on the api role', () => {
  let h: ApiHarness;
  let app: ApiApp;
  beforeAll(async () => {
    h = await startApi();
    const ctx: ServeContext = {
      config: loadConfig({ REDIS_URL: h.redis.url }),
      log: silentLogger,
      client: h.deps.client,
      registry: h.deps.registry,
      events: new MemoryEventSink(),
      roles: new Set(['api']),
    };
    app = await buildApiApp(h.deps, { docs: false, routes: await extraApiRoutes(ctx) });
  });
  afterAll(async () => {
    await app?.close();
    await h?.stop();
  });

  it('serves dead letters, decisions and rule hits', async () => {
    const t = await h.tenant('serve');
    for (const url of ['/v1/dead-letters', '/v1/decisions', '/v1/rule-hits']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.admin}` } });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      // A new tenant: nothing failed, was decided or hit yet.
      assert.deepEqual((res.json() as { items: unknown[] }).items, [], url);
      const anonymous = await app.inject({ method: 'GET', url });
      assert.equal(anonymous.statusCode, 401, `${url} without a key`);
    }
  });
});
