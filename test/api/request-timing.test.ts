import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

/** The API's request time on /metrics: one series per route, method and status class. */
describe.skipIf(skipWithoutRedis)('request timing on /metrics', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi();
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** The `_count` of callguard_http_request_seconds for one route, method and status class. */
  const timed = async (route: string, method: string, status: string): Promise<number> => {
    const body = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = body
      .split('\n')
      .find(
        (l) =>
          l.startsWith('callguard_http_request_seconds_count{') &&
          l.includes(`route="${route}"`) &&
          l.includes(`method="${method}"`) &&
          l.includes(`status="${status}"`),
      );
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  it('times answered, refused and unauthenticated requests under their route and status class', async () => {
    const t = await h.tenant('timing');
    const before = {
      ok: await timed('/v1/check', 'POST', '2xx'),
      refused: await timed('/v1/check', 'POST', '4xx'),
      rules: await timed('/v1/rules/:id', 'GET', '4xx'),
    };
    for (let i = 0; i < 3; i++) {
      const res = await h.call('POST', '/v1/check', t.admin, {
        called: '15550001234',
        direction: 'outbound',
      });
      assert.equal(res.statusCode, 200);
    }
    assert.equal(
      (await h.call('POST', '/v1/check', undefined, { called: '1', direction: 'outbound' })).statusCode,
      401,
    );
    assert.equal(
      (await h.call('POST', '/v1/check', t.admin, { called: '1', direction: 'sideways' })).statusCode,
      400,
    );
    assert.equal((await h.call('GET', '/v1/rules/999999', t.admin)).statusCode, 404);
    assert.equal(await timed('/v1/check', 'POST', '2xx'), before.ok + 3);
    assert.equal(await timed('/v1/check', 'POST', '4xx'), before.refused + 2);
    assert.equal(await timed('/v1/rules/:id', 'GET', '4xx'), before.rules + 1);
  });
});
