import { type AttemptTally, attemptsIn, bucketFields } from './attempt-buckets.js';
import { type CallingWindow, type ContactPolicy, minutesOf, WEEKDAYS } from './contact-policy.js';
import { type LocalTime, localTime } from './local-time.js';

/** Where the evaluation finds the callee's zones and the attempts counted so far. */
export interface PolicyInputs {
  /** The zones of a called number (E.164 digits); undefined when unknown. */
  zonesOf(number: string): readonly string[] | undefined;
  /** The attempts counted under a counting key; undefined when none. */
  tallyOf(key: string): AttemptTally | undefined;
}

/** A call a policy refuses, and why, in words a campaign manager reads. */
export interface PolicyRefusal {
  readonly policy: ContactPolicy;
  readonly reason: string;
}

/** Under which key a number's attempts count for this policy: the tenant's, or the task's. */
export function countingKey(policy: ContactPolicy, task: string | undefined, number: string): string {
  return policy.countBy === 'task' ? `t\u001f${task ?? ''}\u001f${number}` : `\u001f${number}`;
}

const fixed = new Map<string, readonly string[]>();
/** One array per fixed zone, so that it can key the per-zone-set cache. */
function fixedZones(zone: string): readonly string[] {
  let zones = fixed.get(zone);
  if (!zones) {
    zones = Object.freeze([zone]);
    fixed.set(zone, zones);
  }
  return zones;
}

/** The zones a policy reads the number's local time in; undefined when none is known. */
export function policyZones(
  policy: ContactPolicy,
  number: string,
  inputs: PolicyInputs,
): readonly string[] | undefined {
  if (policy.zone !== 'callee') return fixedZones(policy.zone);
  return (
    inputs.zonesOf(number) ??
    (policy.fallbackZone === undefined ? undefined : fixedZones(policy.fallbackZone))
  );
}

const DAY_LABEL = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** Week order for descriptions: Monday first. */
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
const clockOf = (minutes: number) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;

const descriptions = new WeakMap<CallingWindow, string>();

/** "Mon-Fri 08:00-21:00, Sat 09:00-18:00": the window as people write it. */
export function describeWindow(window: CallingWindow): string {
  let text = descriptions.get(window);
  if (text !== undefined) return text;
  const parts: string[] = [];
  for (const p of window.hours) {
    const on = new Set(p.days.map((d) => WEEKDAYS.indexOf(d)));
    const runs: string[] = [];
    let start = -1;
    for (let i = 0; i <= 7; i++) {
      const inRun = i < 7 && on.has(WEEK_ORDER[i]!);
      if (inRun && start < 0) start = i;
      if (!inRun && start >= 0) {
        const a = DAY_LABEL[WEEK_ORDER[start]!]!;
        const b = DAY_LABEL[WEEK_ORDER[i - 1]!]!;
        runs.push(i - 1 === start ? a : i - 1 === start + 1 ? `${a},${b}` : `${a}-${b}`);
        start = -1;
      }
    }
    parts.push(`${runs.join(',')} ${p.from}-${p.to}`);
  }
  text = parts.join(', ');
  descriptions.set(window, text);
  return text;
}

/** Whether the window allows a call at this local time (holidays included). */
export function windowAllows(window: CallingWindow, local: LocalTime): boolean {
  if (window.holidays?.includes(local.date)) return false;
  const day = WEEKDAYS[local.weekday]!;
  for (const p of window.hours) {
    if (p.days.includes(day) && minutesOf(p.from) <= local.minutes && local.minutes < minutesOf(p.to))
      return true;
  }
  return false;
}

const ordinal = (n: number): string => {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
};
const PERIOD_TEXT = { day: 'today', '24h': 'in 24 h', '7d': 'in 7 days' } as const;

/**
 * Why the policy refuses a call to `number` at `at`, or null when it allows it. Several zones: the
 * most restrictive reading (the call must be allowed in each; a day cap counts the busiest local
 * date). Pure: the clock and the counts are inputs.
 */
export function refusalOf(
  policy: ContactPolicy,
  number: string,
  task: string | undefined,
  at: number,
  inputs: PolicyInputs,
): string | null {
  const caps = policy.caps ?? [];
  const needsZone = policy.window !== undefined || caps.some((c) => c.per === 'day');
  const zones = needsZone ? policyZones(policy, number, inputs) : undefined;
  if (needsZone && zones === undefined) {
    return `no time zone is known for ${number} (the policy has no fallbackZone)`;
  }
  const zoneView = zones === undefined ? undefined : zoneViewOf(policy, zones, at);
  if (zoneView?.windowRefusal) return zoneView.windowRefusal;
  if (caps.length === 0) return null;
  const tally = inputs.tallyOf(countingKey(policy, task, number));
  if (tally === undefined)
    return caps.some((c) => c.max === 0) ? capText(0, caps.find((c) => c.max === 0)!) : null;
  for (const cap of caps) {
    let made = 0;
    if (cap.per === 'day')
      for (const date of zoneView?.dates ?? []) made = Math.max(made, attemptsIn(tally, 'day', at, date));
    else made = attemptsIn(tally, cap.per, at, '');
    if (made >= cap.max) return capText(made, cap);
  }
  return null;
}

interface ZoneView {
  readonly at: number;
  /** Why the window refuses a call at `at` in these zones; null when it allows it. */
  readonly windowRefusal: string | null;
  /** The distinct local dates of the zones at `at` (for day caps). */
  readonly dates: readonly string[];
}

/**
 * The window's answer and the local dates for one set of zones at one instant. Zone sets are shared
 * by every number of a prefix (the table interns them), and a screened list asks about one instant:
 * this is worked out once per set, not once per number (the most restrictive reading of the 42 North
 * American zones costs 42 local times).
 */
const zoneViews = new WeakMap<ContactPolicy, Map<readonly string[], ZoneView>>();

function zoneViewOf(policy: ContactPolicy, zones: readonly string[], at: number): ZoneView {
  let views = zoneViews.get(policy);
  if (!views) {
    views = new Map();
    zoneViews.set(policy, views);
  }
  const known = views.get(zones);
  if (known && known.at === at) return known;
  let windowRefusal: string | null = null;
  const dates = new Set<string>();
  for (const zone of zones) {
    const local = localTime(zone, at);
    dates.add(local.date);
    if (windowRefusal !== null || !policy.window || windowAllows(policy.window, local)) continue;
    windowRefusal = policy.window.holidays?.includes(local.date)
      ? `${local.date} is a holiday in ${zone}`
      : `${DAY_LABEL[local.weekday]} ${clockOf(local.minutes)} ${zone} is outside ${describeWindow(policy.window)}`;
  }
  const view = { at, windowRefusal, dates: [...dates] };
  // Fixed zones and fallbacks are arrays made per call: keep the map from growing with them.
  if (views.size > 10_000) views.clear();
  views.set(zones, view);
  return view;
}

const capTexts = new Map<string, string>();
/** "4th attempt today, cap 3"; the same few texts again and again, so each is made once. */
function capText(made: number, cap: { max: number; per: keyof typeof PERIOD_TEXT }): string {
  const key = `${made}/${cap.per}/${cap.max}`;
  let text = capTexts.get(key);
  if (text === undefined) {
    text = `${ordinal(made + 1)} attempt ${PERIOD_TEXT[cap.per]}, cap ${cap.max}`;
    if (capTexts.size > 10_000) capTexts.clear();
    capTexts.set(key, text);
  }
  return text;
}

/** The first of the task's policies that refuses the call, or null. */
export function firstRefusal(
  policies: readonly ContactPolicy[],
  number: string,
  task: string | undefined,
  at: number,
  inputs: PolicyInputs,
): PolicyRefusal | null {
  for (const policy of policies) {
    const reason = refusalOf(policy, number, task, at, inputs);
    if (reason !== null) return { policy, reason };
  }
  return null;
}

/** What an allowed attempt adds to: counting key → bucket fields, for every policy with caps. */
export function attemptIncrements(
  policies: readonly ContactPolicy[],
  number: string,
  task: string | undefined,
  at: number,
  inputs: PolicyInputs,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const policy of policies) {
    const caps = policy.caps ?? [];
    if (caps.length === 0) continue;
    const key = countingKey(policy, task, number);
    const fields = new Set(out.get(key) ?? bucketFields(at, undefined));
    if (caps.some((c) => c.per === 'day')) {
      for (const zone of policyZones(policy, number, inputs) ?? [])
        fields.add(`d${localTime(zone, at).date}`);
    }
    out.set(key, [...fields]);
  }
  return out;
}
