import type { Weekday } from '../model';

export interface Range {
  from: string;
  to: string;
}
/** The allowed hours of each day of the week; a day without ranges allows no call. */
export type Week = Record<Weekday, Range[]>;
type Period = { days: Weekday[]; from: string; to: string };

/** Monday first, as calling hours are usually written. */
const DAYS: ReadonlyArray<{ day: Weekday; name: string }> = [
  { day: 'mon', name: 'Monday' },
  { day: 'tue', name: 'Tuesday' },
  { day: 'wed', name: 'Wednesday' },
  { day: 'thu', name: 'Thursday' },
  { day: 'fri', name: 'Friday' },
  { day: 'sat', name: 'Saturday' },
  { day: 'sun', name: 'Sunday' },
];
const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

export const emptyWeek = (): Week => ({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });

/** What a new policy starts with: Mon-Fri 08:00-21:00 (the common telemarketing hours). */
export function defaultWeek(): Week {
  const week = emptyWeek();
  for (const d of WEEKDAYS) week[d] = [{ from: '08:00', to: '21:00' }];
  return week;
}

/** The grid of a policy's periods: each period's range on each of its days. */
export function weekOf(hours: readonly Period[]): Week {
  const week = emptyWeek();
  for (const p of hours) for (const d of p.days) week[d].push({ from: p.from, to: p.to });
  return week;
}

/** The grid as the API's periods: the days that share a range become one period (Mon-Fri 08:00-21:00). */
export function hoursOf(week: Week): Period[] {
  const byRange = new Map<string, Period>();
  for (const { day } of DAYS) {
    for (const r of week[day]) {
      const from = r.from.trim();
      const to = r.to.trim();
      const key = `${from}-${to}`;
      const p = byRange.get(key);
      if (p) {
        if (!p.days.includes(day)) p.days.push(day);
      } else byRange.set(key, { days: [day], from, to });
    }
  }
  return [...byRange.values()];
}

/**
 * The window editor: one row per day of the week, each with its allowed time ranges (from inclusive,
 * to exclusive, "HH:MM" in the policy's zone; 24:00 is the end of the day). Every input is labelled
 * with its day, so that a screen reader says "Saturday from" rather than "from".
 */
export function WeekGrid(props: {
  value: Week;
  onChange: (w: Week) => void;
  error?: string;
  errorId: string;
}) {
  const { value } = props;
  const set = (day: Weekday, ranges: Range[]) => props.onChange({ ...value, [day]: ranges });
  const edit = (day: Weekday, i: number, part: keyof Range, v: string) =>
    set(
      day,
      value[day].map((r, j) => (j === i ? { ...r, [part]: v } : r)),
    );
  const copyMonday = () => {
    const next = { ...value };
    for (const d of WEEKDAYS) next[d] = value.mon.map((r) => ({ ...r }));
    props.onChange(next);
  };
  return (
    <fieldset class="span-2 week-grid" aria-describedby={props.error ? props.errorId : undefined}>
      <legend>Allowed hours (local time)</legend>
      <table>
        <caption class="sr-only">Allowed hours per day of the week</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Allowed time ranges (from – to)</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {DAYS.map(({ day, name }) => (
            <tr key={day} data-day={day}>
              <th scope="row">{name}</th>
              <td>
                {value[day].length === 0 ? <span class="muted">no calls</span> : null}
                {value[day].map((r, i) => {
                  const n = value[day].length > 1 ? ` (range ${i + 1})` : '';
                  return (
                    <span class="range" key={i}>
                      <input
                        type="text"
                        inputMode="numeric"
                        class="clock"
                        aria-label={`${name} from${n}`}
                        placeholder="08:00"
                        value={r.from}
                        onInput={(e) => edit(day, i, 'from', (e.currentTarget as HTMLInputElement).value)}
                      />
                      <span aria-hidden="true">–</span>
                      <input
                        type="text"
                        inputMode="numeric"
                        class="clock"
                        aria-label={`${name} to${n}`}
                        placeholder="21:00"
                        value={r.to}
                        onInput={(e) => edit(day, i, 'to', (e.currentTarget as HTMLInputElement).value)}
                      />
                      <button
                        type="button"
                        class="link danger"
                        aria-label={`Remove ${name} ${r.from}–${r.to}`}
                        onClick={() =>
                          set(
                            day,
                            value[day].filter((_, j) => j !== i),
                          )
                        }
                      >
                        ×
                      </button>
                    </span>
                  );
                })}
              </td>
              <td class="row-actions">
                <button
                  type="button"
                  class="link"
                  onClick={() => set(day, [...value[day], { from: '09:00', to: '18:00' }])}
                >
                  Add hours<span class="sr-only"> on {name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="subform-actions">
        <button type="button" onClick={copyMonday}>
          Copy Monday to Tuesday–Friday
        </button>
      </div>
      <div class="help">
        "HH:MM", from inclusive, to exclusive (21:00 allows calls until 20:59); 24:00 ends the day.
      </div>
      {props.error ? (
        <div class="error-text" id={props.errorId} role="alert">
          {props.error}
        </div>
      ) : null}
    </fieldset>
  );
}
