import type { LightMyRequestResponse } from 'fastify';
import { type ApiApp, type ApiDeps, apiDepsOver } from '../../src/api/api-deps.js';
import { buildApiApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/log.js';
import type { ApiKeyInput } from '../../src/store/api-key-repository.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

export const SYSTEM_KEY = 'system-key-for-tests-0123456789';

/** The real API over a real Redis, driven with fastify.inject. */
export interface ApiHarness {
  readonly redis: TestRedis;
  readonly app: ApiApp;
  readonly deps: ApiDeps;
  /** A new tenant with an admin key (every permission). */
  tenant(label?: string): Promise<{ id: string; admin: string }>;
  key(tenant: string, input: ApiKeyInput): Promise<string>;
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    key: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  stop(): Promise<void>;
}

export async function startApi(options: { private?: boolean } = {}): Promise<ApiHarness> {
  const redis = await startRedis({ private: options.private });
  const client = redis.client();
  const store = { streamMaxLen: 10_000, snapshotEvery: 1_000 };
  const registry = new SyncRegistry({ client, log: silentLogger, store, blockMs: 200 });
  const deps = apiDepsOver({
    config: { CALLGUARD_SYSTEM_KEY: SYSTEM_KEY },
    client,
    registry,
    log: silentLogger,
    store,
  });
  const app = await buildApiApp(deps, { docs: false });
  const harness: ApiHarness = {
    ...apiRequests(redis, app, deps),
    async stop() {
      await app.close();
      await registry.stop();
      await redis.stop();
    },
  };
  return harness;
}

/** A harness's tenants, keys and requests (fastify.inject) over an app and its repositories. */
export function apiRequests(
  redis: TestRedis,
  app: ApiApp,
  deps: ApiDeps,
): Pick<ApiHarness, 'redis' | 'app' | 'deps' | 'tenant' | 'key' | 'call'> {
  return {
    redis,
    app,
    deps,
    async tenant(label = 't') {
      const id = redis.tenant(label);
      await deps.tenants.create(id);
      const { key } = await deps.keys.create(id, { role: 'tenant_admin' });
      return { id, admin: key };
    },
    async key(tenant, input) {
      return (await deps.keys.create(tenant, input)).key;
    },
    call(method, url, key, body, headers = {}) {
      const h: Record<string, string> = { ...headers };
      if (key) h.authorization = `Bearer ${key}`;
      let payload: string | Buffer | undefined;
      if (body !== undefined) {
        // a Buffer goes as its bytes (a body that is not UTF-8), a string as it is, anything else as JSON
        payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      return app.inject({ method, url, headers: h, payload });
    },
  };
}
