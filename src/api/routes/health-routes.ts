import { z } from 'zod';
import { indexRules, indexVersion, onCollect, scrapeMetrics, stalenessSeconds } from '../../metrics.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';

/** What the health routes read: the Redis client and the engines (a call node has both, no API). */
export type HealthDeps = Pick<ApiDeps, 'client' | 'registry'>;

const readySchema = z.object({
  ready: z.boolean(),
  redis: z.boolean(),
  tenants: z.number().int(),
  loaded: z.number().int(),
  stalenessSeconds: z.number().nullable(),
  reasons: z.array(z.string()).describe('Why the node is not ready (empty when ready).'),
});

async function redisReachable(deps: HealthDeps, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  try {
    return await Promise.race([deps.client.ping().then((p) => p === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz (the process answers), /readyz (Redis answers and every tenant index is loaded), /metrics. */
export function registerHealthRoutes(app: ApiApp, deps: HealthDeps): void {
  const stop = onCollect(() => {
    for (const s of deps.registry.status()) {
      indexRules.set({ tenant: s.tenant }, s.rules);
      indexVersion.set({ tenant: s.tenant }, Number(s.version.split('-')[0]) || 0);
    }
    const stale = deps.registry.stalenessSeconds();
    stalenessSeconds.set(Number.isFinite(stale) ? stale : -1);
  });
  app.addHook('onClose', async () => stop());

  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: { tags: ['health'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        security: [],
        description: 'Ready when Redis answers and every known tenant index is loaded.',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const redis = await redisReachable(deps);
      const status = deps.registry.status();
      const loaded = status.filter((s) => s.loaded).length;
      const stale = deps.registry.stalenessSeconds();
      const ready = redis && loaded === status.length;
      const reasons: string[] = [];
      if (!redis) {
        reasons.push(
          `Redis does not answer (connection ${deps.client.status}); calls and /v1/check are decided from the rules in memory, writes answer 503`,
        );
      }
      const waiting = status.filter((s) => !s.loaded).map((s) => s.tenant);
      if (waiting.length > 0) {
        reasons.push(
          `${waiting.length} of ${status.length} tenants not loaded yet: ${waiting.slice(0, 10).join(', ')}${waiting.length > 10 ? ', ...' : ''}`,
        );
      }
      return reply.code(ready ? 200 : 503).send({
        ready,
        redis,
        tenants: status.length,
        loaded,
        stalenessSeconds: Number.isFinite(stale) ? stale : null,
        reasons,
      });
    },
  );

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'none' } }, async (_request, reply) => {
    const { contentType, body } = await scrapeMetrics();
    return reply.type(contentType).send(body);
  });
}
