import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { StaticDeciderSource } from '../../src/call/static-decider-source.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { metricsRegistry, scrapeMetrics } from '../../src/metrics.js';
import { countingDeciderSource } from '../../src/pbx/counting-decider-source.js';

/** The value a Prometheus scrape reports. */
async function count(action: string, direction: string, source: string): Promise<number> {
  await scrapeMetrics();
  const metric = (await metricsRegistry.getSingleMetric('callguard_decisions_total')?.get()) as
    | { values: Array<{ value: number; labels: Record<string, string> }> }
    | undefined;
  const v = metric?.values.find(
    (x) => x.labels.action === action && x.labels.direction === direction && x.labels.source === source,
  );
  return v?.value ?? 0;
}

describe('PBX decisions are counted in callguard_decisions_total', () => {
  it('counts each decision by action and direction, and calls that fell to the failure policy', async () => {
    const engine = DecisionEngine.fromRules([
      { id: 1, called: '_1404!', direction: 'both', action: 'block', updatedAt: 1_700_000_000_000 },
    ]);
    const inner = new StaticDeciderSource().set('acme', engine, { mode: 'digits' });
    const source = countingDeciderSource(inner, 'test-pbx');
    const decider = source.deciderFor('acme')!;
    assert.equal(source.deciderFor('acme'), decider, 'wrapped once');
    const at = Date.now();
    assert.equal(
      decider.decide({ called: '14045550000', calling: '', direction: 'outbound', at }).action,
      'block',
    );
    decider.decide({ called: '14045550001', calling: '', direction: 'inbound', at });
    decider.decide({ called: '15550000000', calling: '', direction: 'inbound', at });
    assert.equal(source.deciderFor('nobody'), undefined);
    source.fallbackHandling('nobody');
    assert.equal(await count('block', 'outbound', 'test-pbx'), 1);
    assert.equal(await count('block', 'inbound', 'test-pbx'), 1);
    assert.equal(await count('allow', 'inbound', 'test-pbx'), 1);
    assert.equal(await count('failure_policy', 'unknown', 'test-pbx'), 1);
  });
});
