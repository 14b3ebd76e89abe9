import fc from 'fast-check';
import { forgetE164Plans, libphonenumberE164 } from '../src/domain/e164-fast-path.js';
import { type NormalizationPolicy, normalizeCallNumber } from '../src/domain/number.js';
import { nationalNumberArbitrary } from '../test/support/national-numbers.js';
import { flag } from './pbx-bench-kit.js';

/**
 * `e164` normalisation on the call path (normalizeCallNumber) against libphonenumber alone, on the
 * same random national digit strings, and the answers compared number by number.
 *
 *   npm run bench -- numbers [--count 1000000] [--countries US,LV]
 *
 * One JSON line per country: median ns per number (timed one by one, the timer's own cost taken off)
 * on a first pass (each country's metadata compiled on first use, code not yet optimised) and a
 * second, libphonenumber's median on the same numbers (the first 200,000), the ratio, and mismatches
 * (bar: 0 mismatches, second-pass median <= 1 µs), and the 99th percentiles of the second pass and
 * of libphonenumber. Nothing is remembered per number, so the size of
 * the sample does not change the figure.
 */
function nsPerCall(numbers: readonly string[], fn: (n: string) => string): { median: number; p99: number } {
  // per number: the median is what a call sees; the timer's own cost (an empty call) is taken off
  const timed = (f: (n: string) => string) => {
    const ns = new Float64Array(numbers.length);
    let sink = 0;
    for (let i = 0; i < numbers.length; i++) {
      const t0 = process.hrtime.bigint();
      sink += f(numbers[i]).length;
      ns[i] = Number(process.hrtime.bigint() - t0);
    }
    if (sink === -1) console.log(sink);
    ns.sort();
    return { median: ns[Math.floor(ns.length / 2)], p99: ns[Math.floor(ns.length * 0.99)] };
  };
  const overhead = timed((n) => n).median;
  const { median, p99 } = timed(fn);
  return { median: Math.max(0, Math.round(median - overhead)), p99: Math.max(0, Math.round(p99 - overhead)) };
}

const medianNsPerCall = (numbers: readonly string[], fn: (n: string) => string) =>
  nsPerCall(numbers, fn).median;

export default async function run(args: string[]): Promise<void> {
  const count = Number(flag(args, 'count', '1000000'));
  const countries = flag(args, 'countries', 'US,LV').split(',');
  for (const country of countries) {
    const numbers = fc.sample(nationalNumberArbitrary(country), { numRuns: count, seed: 24 });
    const policy: NormalizationPolicy = { mode: 'e164', defaultCountry: country };
    forgetE164Plans();
    const reference = numbers.map((n) => libphonenumberE164(n, country));
    let mismatches = 0;
    const firstPass = medianNsPerCall(numbers, (n) => normalizeCallNumber(n, policy));
    for (let i = 0; i < numbers.length; i++) {
      if (normalizeCallNumber(numbers[i], policy) !== reference[i]) mismatches++;
    }
    const second = nsPerCall(numbers, (n) => normalizeCallNumber(n, policy));
    const secondPass = second.median;
    const reference200k = nsPerCall(numbers.slice(0, Math.min(numbers.length, 200_000)), (n) =>
      libphonenumberE164(n, country),
    );
    const baseline = reference200k.median;
    const sip = medianNsPerCall(
      Array.from({ length: 100_000 }, (_, i) => (i % 2 ? 's' : `user${i}`)),
      (n) => normalizeCallNumber(n, policy),
    );
    console.log(
      JSON.stringify({
        bench: 'numbers',
        country,
        numbers: numbers.length,
        mismatches,
        medianNs: { firstPass, secondPass, libphonenumber: baseline, nonNumeric: sip },
        p99Ns: { secondPass: second.p99, libphonenumber: reference200k.p99 },
        ratioToLibphonenumber: Number((secondPass / baseline).toFixed(3)),
        bar: { medianNs: 1000, pass: mismatches === 0 && secondPass <= 1000 },
        node: process.version,
      }),
    );
  }
}

export { run };
