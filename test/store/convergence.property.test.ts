import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { convergenceProperty } from '../support/convergence.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

describe('sync convergence', { skip: skipWithoutRedis }, () => {
  let redis: TestRedis;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  after(async () => {
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
