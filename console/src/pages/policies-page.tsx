import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, failureOutside, fieldErrors, getAll, messageOf } from '../api';
import { nameOf, optionsOf, useCatalog } from '../catalog';
import { FormFailure, IdAndName, OuAndDescription } from '../components/shared-fields';
import { Dialog, Notice, Pager, Select, SubmitOrCancel, TableWrap, TextInput } from '../components/ui';
import { defaultWeek, hoursOf, type Week, WeekGrid, weekOf } from '../components/week-grid';
import { useLatestRequest } from '../latest-request';
import type { CapPeriod, ContactPolicy } from '../model';

const PAGE_SIZE = 50;
const CAPS: ReadonlyArray<{ per: CapPeriod; label: string; short: string }> = [
  { per: 'day', label: 'At most per calendar day', short: 'a day' },
  { per: '24h', label: 'At most per rolling 24 hours', short: 'in 24 h' },
  { per: '7d', label: 'At most per rolling 7 days', short: 'in 7 days' },
];
const DAY_SHORT: Record<string, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

const WEEK_ORDER = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** "Mon-Fri", "Sat,Sun", "Mon,Wed-Fri": runs of days Monday first, as the API's reasons write them. */
function daysText(days: readonly string[]): string {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= WEEK_ORDER.length; i++) {
    const on = i < WEEK_ORDER.length && days.includes(WEEK_ORDER[i]!);
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      const a = DAY_SHORT[WEEK_ORDER[start]!];
      const b = DAY_SHORT[WEEK_ORDER[i - 1]!];
      runs.push(i - 1 === start ? `${a}` : i - 1 === start + 1 ? `${a},${b}` : `${a}-${b}`);
      start = -1;
    }
  }
  return runs.join(',');
}

/** "Mon-Fri 08:00–21:00, Sat 09:00–18:00" for the list. */
function windowText(p: ContactPolicy): string {
  if (!p.window) return '';
  const hours = p.window.hours.map((h) => `${daysText(h.days)} ${h.from}–${h.to}`);
  const holidays = p.window.holidays?.length ? ` · ${p.window.holidays.length} holiday(s)` : '';
  return hours.join(', ') + holidays;
}
const capsText = (p: ContactPolicy): string =>
  (p.caps ?? []).map((c) => `${c.max} ${CAPS.find((x) => x.per === c.per)?.short ?? c.per}`).join(', ') +
  (p.caps?.length ? ` per ${p.countBy}` : '');

/** Contact policies: calling hours in the callee's local time and attempt caps for outbound tasks. */
export function PoliciesPage() {
  const catalog = useCatalog();
  const [all, setAll] = useState<ContactPolicy[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(0);
  const [editing, setEditing] = useState<ContactPolicy | 'new'>();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const beginRequest = useLatestRequest();

  const load = useCallback(async () => {
    const newest = beginRequest();
    try {
      const list = await getAll<ContactPolicy>('/v1/contact-policies');
      if (newest()) setAll(list);
    } catch (err) {
      if (newest()) setError(messageOf(err));
    } finally {
      if (newest()) setLoaded(true);
    }
  }, [beginRequest]);
  useEffect(() => {
    void load();
  }, [load]);

  const q = query.trim().toLowerCase();
  const matching = q
    ? all.filter((x) => x.id.toLowerCase().includes(q) || x.name.toLowerCase().includes(q))
    : all;
  const shown = matching.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);

  const remove = async (p: ContactPolicy) => {
    if (!window.confirm(`Delete contact policy "${p.name}"?`)) return;
    setError(undefined);
    setNotice(undefined);
    try {
      await api('DELETE', `/v1/contact-policies/${encodeURIComponent(p.id)}`);
      await load();
      setNotice(`Deleted contact policy "${p.name}".`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby="policies-title" class="page">
      <div class="page-head">
        <h1 id="policies-title">Contact policies</h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New policy
          </button>
        </div>
      </div>
      <p class="help">
        The calls of an outbound task bound to a policy (Task bindings) are refused outside its hours, in the
        callee's local time, and beyond its attempt caps, unless a rule blocks them first. See
        docs/POLICIES.md: the policies help keep calling rules, they are not legal advice.
      </p>
      <form class="filters" aria-label="Search contact policies" onSubmit={(e) => e.preventDefault()}>
        <TextInput
          label="Search"
          name="search"
          value={query}
          placeholder="id or name"
          onInput={(v) => {
            setQuery(v);
            setPage(0);
          }}
        />
      </form>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="Contact policies list">
        <table class="catalog policies" aria-busy={!loaded}>
          <caption class="sr-only">Contact policies</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">OU</th>
              <th scope="col">Zone</th>
              <th scope="col">Allowed hours</th>
              <th scope="col">Caps</th>
              <th scope="col">Refused calls get</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.id} data-id={p.id}>
                <td class="mono">{p.id}</td>
                <td>
                  {p.name}
                  {p.description ? <div class="muted">{p.description}</div> : null}
                </td>
                <td>{nameOf(catalog.ous, p.ou)}</td>
                <td>
                  {p.zone === 'callee' ? "callee's" : p.zone}
                  {p.fallbackZone ? <div class="muted">else {p.fallbackZone}</div> : null}
                </td>
                <td>{windowText(p)}</td>
                <td>{capsText(p)}</td>
                <td>{p.typeId ? nameOf(catalog.types, p.typeId) : <span class="muted">block</span>}</td>
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => setEditing(p)}>
                    Edit<span class="sr-only"> {p.name}</span>
                  </button>
                  <button type="button" class="link danger" onClick={() => void remove(p)}>
                    Delete<span class="sr-only"> {p.name}</span>
                  </button>
                </td>
              </tr>
            ))}
            {loaded && shown.length === 0 ? (
              <tr>
                <td colSpan={8} class="empty">
                  {q ? 'Nothing matches.' : 'No contact policies yet.'}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label="Contact policies pages"
        page={page}
        total={matching.length}
        hasNext={(page + 1) * PAGE_SIZE < matching.length}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={() => setPage(page + 1)}
      />
      {editing ? (
        <PolicyDialog
          policy={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={async (saved) => {
            setEditing(undefined);
            setError(undefined);
            await load();
            setNotice(`Contact policy "${saved.name}" saved.`);
          }}
        />
      ) : null}
    </section>
  );
}

/** The holiday dates as typed: separated by commas or spaces. */
const holidayDates = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** New or edit: name, OU, zone, the week grid with holidays, the caps, and what a refused call gets. */
function PolicyDialog(props: {
  policy: ContactPolicy | undefined;
  onClose: () => void;
  onSaved: (saved: ContactPolicy) => Promise<void>;
}) {
  const { policy } = props;
  const catalog = useCatalog();
  const [id, setId] = useState(policy?.id ?? '');
  const [name, setName] = useState(policy?.name ?? '');
  const [ou, setOu] = useState(policy?.ou ?? '');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [zoneKind, setZoneKind] = useState(policy && policy.zone !== 'callee' ? 'fixed' : 'callee');
  const [zone, setZone] = useState(policy && policy.zone !== 'callee' ? policy.zone : '');
  const [fallbackZone, setFallbackZone] = useState(policy?.fallbackZone ?? '');
  const [week, setWeek] = useState<Week>(policy ? weekOf(policy.window?.hours ?? []) : defaultWeek());
  const [holidays, setHolidays] = useState((policy?.window?.holidays ?? []).join(', '));
  const [caps, setCaps] = useState<Record<CapPeriod, string>>(() => {
    const of = (per: CapPeriod) => String(policy?.caps?.find((c) => c.per === per)?.max ?? '');
    return { day: of('day'), '24h': of('24h'), '7d': of('7d') };
  });
  const [countBy, setCountBy] = useState<string>(policy?.countBy ?? 'tenant');
  const [typeId, setTypeId] = useState(policy?.typeId ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();

  const save = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const key = (policy?.id ?? id).trim();
    const local: Record<string, string> = {};
    if (!key) local.id = 'Give the policy an id';
    const capList: Array<{ max: number; per: CapPeriod }> = [];
    for (const { per } of CAPS) {
      const v = caps[per].trim();
      if (!v) continue;
      if (!/^\d+$/.test(v)) local[`caps.${per}`] = 'a whole number of attempts, or empty for no cap';
      else capList.push({ max: Number(v), per });
    }
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    const hours = hoursOf(week);
    const holidayList = holidayDates(holidays);
    const body: Record<string, unknown> = {
      name: name.trim(),
      zone: zoneKind === 'fixed' ? zone.trim() : 'callee',
      countBy,
    };
    if (ou) body.ou = ou;
    if (description.trim()) body.description = description.trim();
    if (zoneKind === 'callee' && fallbackZone.trim()) body.fallbackZone = fallbackZone.trim();
    if (hours.length > 0 || holidayList.length > 0) {
      body.window = { hours, ...(holidayList.length ? { holidays: holidayList } : {}) };
    }
    if (capList.length > 0) body.caps = capList;
    if (typeId) body.typeId = typeId;
    try {
      const saved = await api<ContactPolicy>('PUT', `/v1/contact-policies/${encodeURIComponent(key)}`, {
        body,
      });
      await props.onSaved(saved);
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      const shown = Object.keys(f).filter((k) =>
        /^(id|name|ou|description|zone|fallbackZone|countBy|typeId|window|caps)\b/.test(k),
      );
      setFailure(failureOutside(err, f, shown));
    }
  };

  // The API names a period by its index in the body: say which days and hours that was.
  const periods = hoursOf(week);
  const windowError =
    Object.entries(errors)
      .filter(([k]) => k === 'window' || k.startsWith('window.hours'))
      .map(([k, m]) => {
        const p = periods[Number(/^window\.hours\.(\d+)/.exec(k)?.[1] ?? Number.NaN)];
        return p ? `${daysText(p.days)} ${p.from}–${p.to}: ${m}` : m;
      })
      .join('; ') || undefined;
  const typedHolidays = holidayDates(holidays);
  const holidaysError =
    Object.entries(errors)
      .filter(([k]) => k.startsWith('window.holidays'))
      .map(([k, m]) => {
        const d = typedHolidays[Number(/^window\.holidays\.(\d+)/.exec(k)?.[1] ?? Number.NaN)];
        return d ? `"${d}": ${m}` : m;
      })
      .join('; ') || undefined;
  // Likewise a cap: by its index among the caps sent (the filled-in ones, in the order shown).
  const sentCaps = CAPS.filter((c) => caps[c.per].trim());
  const capsError =
    Object.entries(errors)
      .filter(([k]) => /^caps(\.\d+|$)/.test(k))
      .map(([k, m]) => {
        const c = sentCaps[Number(/^caps\.(\d+)/.exec(k)?.[1] ?? Number.NaN)];
        return c ? `${c.label}: ${m}` : m;
      })
      .join('; ') ||
    CAPS.map((c) => errors[`caps.${c.per}`])
      .filter(Boolean)
      .join('; ');

  return (
    <Dialog
      wide
      title={policy ? `Edit contact policy ${policy.id}` : 'New contact policy'}
      onClose={props.onClose}
      footer={<SubmitOrCancel form="policy-form" onClose={props.onClose} />}
    >
      <form id="policy-form" class="grid-form" onSubmit={(e) => void save(e)} noValidate>
        <FormFailure failure={failure} />
        <IdAndName
          isNew={!policy}
          id={id}
          onId={setId}
          name={name}
          onName={setName}
          errors={errors}
          refersTo="task bindings"
        />
        <OuAndDescription
          ou={ou}
          onOu={setOu}
          description={description}
          onDescription={setDescription}
          errors={errors}
        />
        <Select
          label="Time zone of the hours"
          name="zoneKind"
          value={zoneKind}
          onChange={setZoneKind}
          options={[
            { value: 'callee', label: "The callee's zone (from the number)" },
            { value: 'fixed', label: 'A fixed zone' },
          ]}
          help="A number in several zones must be allowed in each of them."
        />
        {zoneKind === 'fixed' ? (
          <TextInput
            label="IANA zone"
            name="zone"
            value={zone}
            onInput={setZone}
            error={errors.zone}
            placeholder="America/Chicago"
            required
          />
        ) : (
          <TextInput
            label="Fallback zone"
            name="fallbackZone"
            value={fallbackZone}
            onInput={setFallbackZone}
            error={errors.fallbackZone ?? errors.zone}
            placeholder="America/New_York"
            help="For a number whose zone is unknown; empty: such calls are refused."
          />
        )}
        <WeekGrid value={week} onChange={setWeek} error={windowError} errorId="policy-window-err" />
        <TextInput
          label="Holiday dates"
          name="holidays"
          value={holidays}
          onInput={setHolidays}
          error={holidaysError}
          placeholder="2026-12-25, 2027-01-01"
          help="YYYY-MM-DD, separated by commas: no call all day (local date)."
        />
        <Select
          label="Refused calls get"
          name="typeId"
          value={typeId}
          onChange={setTypeId}
          error={errors.typeId}
          options={optionsOf(catalog.types, 'Block without a type')}
          help="A type adds its operation: Auto Wrap Up with a business result, or a pop-up."
        />
        <fieldset class="span-2 caps" aria-describedby={capsError ? 'policy-caps-err' : undefined}>
          <legend>Attempt caps per number (empty: no cap)</legend>
          <div class="caps-row">
            {CAPS.map((c) => (
              <TextInput
                key={c.per}
                label={c.label}
                name={`cap-${c.per}`}
                value={caps[c.per]}
                onInput={(v) => setCaps({ ...caps, [c.per]: v })}
                error={errors[`caps.${c.per}`]}
                autocomplete="off"
              />
            ))}
            <Select
              label="Counted"
              name="countBy"
              value={countBy}
              onChange={setCountBy}
              error={errors.countBy}
              options={[
                { value: 'tenant', label: 'per tenant (every task together)' },
                { value: 'task', label: 'per task' },
              ]}
            />
          </div>
          {capsError && !CAPS.some((c) => errors[`caps.${c.per}`]) ? (
            <div class="error-text" id="policy-caps-err" role="alert">
              {capsError}
            </div>
          ) : null}
        </fieldset>
      </form>
    </Dialog>
  );
}
