import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { convergenceProperty } from '../support/convergence.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

describe.skipIf(skipWithoutRedis)('sync convergence', () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two nodes decide exactly as an engine built fresh from the store, after any history of writes', async () => {
    await convergenceProperty(
      client,
      () => redis.client(),
      () => redis.tenant('conv'),
      Number(process.env.CG_RUNS ?? 25),
    );
  });
});
