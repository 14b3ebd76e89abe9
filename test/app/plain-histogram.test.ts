import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, it } from 'vitest';
import { PlainHistogram } from '../../src/plain-histogram.js';

const BUCKETS = [0.0005, 0.001, 0.01, 0.1, 1];
const observation = fc.record({
  route: fc.constantFrom('/v1/check', '/v1/screen'),
  status: fc.constantFrom('2xx', '4xx'),
  value: fc.oneof(fc.constantFrom(0, ...BUCKETS, 5), fc.double({ min: 0, max: 3, noNaN: true })),
});

/** The text exposition of one registry, with the metric's name made neutral. */
async function exposition(registry: Registry, name: string): Promise<string> {
  return (await registry.metrics()).replaceAll(name, 'm');
}

describe('PlainHistogram scrapes as prom-client Histogram', () => {
  it('gives the same exposition and JSON for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const theirs = new Registry();
        const ours = new Registry();
        const labelNames = ['route', 'status'] as const;
        const reference = new Histogram({
          name: 'ref_seconds',
          help: 'h',
          labelNames,
          buckets: BUCKETS,
          registers: [theirs],
        });
        const plain = new PlainHistogram({
          name: 'plain_seconds',
          help: 'h',
          labelNames,
          buckets: BUCKETS,
          registers: [ours],
        });
        for (const o of observations) {
          reference.labels(o.route, o.status).observe(o.value);
          plain.labels(o.route, o.status).observe(o.value);
        }
        assert.equal(await exposition(ours, 'plain_seconds'), await exposition(theirs, 'ref_seconds'));
        const json = async (r: Registry, name: string) =>
          JSON.parse(JSON.stringify(await r.getMetricsAsJSON()).replaceAll(name, 'm'));
        assert.deepEqual(await json(ours, 'plain_seconds'), await json(theirs, 'ref_seconds'));
      }),
      { numRuns: 300 },
    );
  });

  it('counts each observation in its bucket', async () => {
    const registry = new Registry();
    const h = new PlainHistogram({
      name: 'x_seconds',
      help: 'h',
      labelNames: ['kind'],
      buckets: [1, 2],
      registers: [registry],
    });
    const s = h.labels('check');
    for (const v of [0.5, 1, 1.5, 3]) s.observe(v);
    const text = await registry.metrics();
    assert.match(text, /x_seconds_bucket\{le="1",kind="check"\} 2\n/);
    assert.match(text, /x_seconds_bucket\{le="2",kind="check"\} 3\n/);
    assert.match(text, /x_seconds_bucket\{le="\+Inf",kind="check"\} 4\n/);
    assert.match(text, /x_seconds_sum\{kind="check"\} 6\n/);
  });
});
