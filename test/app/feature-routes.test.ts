import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { featureRoutesOf } from '../../src/app/api-routes.js';
import type { ServeContext } from '../../src/app/roles.js';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { type ApiHarness, startApi } from '../api/api-harness.js';
import { skipWithoutRedis } from '../support/redis-server.js';

describe.skipIf(skipWithoutRedis)('serve: the routes of every feature on the api role', () => {
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
    app = await buildApiApp(h.deps, { docs: false, routes: await featureRoutesOf(ctx) });
  });
  afterAll(async () => {
    await app?.close();
    await h?.stop();
  });

  it('serves dead letters, decisions, rule hits and the task view', async () => {
    const t = await h.tenant('serve');
    for (const url of ['/v1/dead-letters', '/v1/decisions', '/v1/rule-hits', '/v1/jobs']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.admin}` } });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      // A new tenant: nothing failed, was decided or hit yet.
      assert.deepEqual((res.json() as { items: unknown[] }).items, [], url);
      const anonymous = await app.inject({ method: 'GET', url });
      assert.equal(anonymous.statusCode, 401, `${url} without a key`);
    }
  });
});
