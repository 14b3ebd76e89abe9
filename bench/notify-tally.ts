/**
 * What counting every call for the dashboard adds to the call path: CallTally.count() (the
 * recorder's per-minute counts) against a same-run baseline, the per-rule hit bump observe() already
 * did before it (a Map lookup and an increment per matched call). Rounds alternate; medians of 7.
 *
 *   npm run bench -- notify tally [calls per round]
 *
 * Prints one JSON line: ns per call of each, the ratio, and whether the tally stays within the bar
 * (at most 2x the hit bump, i.e. of the order of the work the call path already did).
 */
import { CallTally } from '../src/store/call-stats.js';

const TENANTS = ['acme', 'globex', 'initech'];
const BAR_RATIO = 2;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function tally(args: string[]): Promise<void> {
  const calls = Number(args[0] ?? 2_000_000);
  const start = Date.now();
  // A call a millisecond apart: the minute changes every 60,000 calls, as at 1000 calls/s.
  const at = (i: number) => start + i;
  const tenantOf = (i: number) => TENANTS[i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 0]!;
  const ruleOf = (i: number) => (i % 10 === 0 ? 1 + (i % 5000) : 0);

  const runTally = () => {
    const t = new CallTally();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      const rule = ruleOf(i);
      t.count(tenantOf(i), at(i), rule !== 0, rule);
    }
    const ns = ((performance.now() - t0) * 1e6) / calls;
    t.drain();
    return ns;
  };
  const runHits = () => {
    const hits = new Map<string, Map<number, { count: number; last: number }>>();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) {
      const rule = ruleOf(i);
      const tenant = tenantOf(i);
      let rules = hits.get(tenant);
      if (rules === undefined) {
        rules = new Map();
        hits.set(tenant, rules);
      }
      // observe() bumps only for a matched rule; a map lookup per call either way.
      if (rule !== 0) {
        const cell = rules.get(rule);
        if (cell === undefined) rules.set(rule, { count: 1, last: at(i) });
        else cell.count++;
      }
    }
    return ((performance.now() - t0) * 1e6) / calls;
  };
  runTally();
  runHits();
  const tallyNs: number[] = [];
  const hitsNs: number[] = [];
  for (let r = 0; r < 7; r++) {
    tallyNs.push(runTally());
    hitsNs.push(runHits());
  }
  const t = median(tallyNs);
  const h = median(hitsNs);
  console.log(
    JSON.stringify({
      scenario: 'notify tally',
      calls_per_round: calls,
      tally_ns_per_call: Number(t.toFixed(1)),
      baseline_hit_bump_ns_per_call: Number(h.toFixed(1)),
      ratio: Number((t / h).toFixed(2)),
      bar: `tally <= ${BAR_RATIO}x the hit bump`,
      pass: t <= BAR_RATIO * h,
      rounds: 7,
    }),
  );
}
