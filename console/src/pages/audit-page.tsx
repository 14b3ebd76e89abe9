import { useCallback, useState } from 'preact/hooks';
import { get, messageOf } from '../api';
import { Field, Notice, Pager, Select, TableWrap, TextInput } from '../components/ui';
import { useLoaded } from '../latest-request';
import { formatTime } from '../model';

interface AuditEntry {
  id: string;
  at: number;
  actor: { keyId: string; name?: string; role: string };
  kind: string;
  action: string;
  target: string;
  ous: string[];
  before?: unknown;
  after?: unknown;
}

const KINDS = [
  'rule',
  'group',
  'type',
  'ou',
  'binding',
  'params',
  'key',
  'file_server',
  'schedule',
  'import',
  'export',
  'tenant',
];
const PAGE_SIZE = 50;

/** The fields that differ between before and after, each with both values. */
export function changedFields(before: unknown, after: unknown): Array<[string, string, string]> {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .map((k) => [k, show(b[k]), show(a[k])]);
}

/** A datetime-local value (the browser's local time) as epoch ms; undefined when empty or invalid. */
const localTime = (v: string): number | undefined => {
  const ms = v ? new Date(v).getTime() : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/** Audit: who changed what and when, newest first, with each change's before and after. */
export function AuditPage() {
  const [kind, setKind] = useState('');
  const [keyId, setKeyId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState(0);
  const list = useLoaded(
    useCallback(
      () =>
        get<{ items: AuditEntry[]; next?: string }>('/v1/audit', {
          limit: PAGE_SIZE,
          cursor: cursors[page],
          kind: kind || undefined,
          keyId: keyId.trim() || undefined,
          from: localTime(from),
          to: localTime(to),
        }),
      [cursors, page, kind, keyId, from, to],
    ),
    messageOf,
  );
  const items = list.value?.items ?? [];
  const next = list.value?.next;
  const { error, loaded } = list;

  const refilter = (set: (v: string) => void) => (v: string) => {
    set(v);
    setCursors([undefined]);
    setPage(0);
  };

  return (
    <section aria-labelledby="audit-title" class="page">
      <div class="page-head">
        <h1 id="audit-title">Audit</h1>
        <div class="toolbar">
          <button type="button" onClick={() => void list.reload()}>
            Refresh
          </button>
        </div>
      </div>
      <form class="filters" aria-label="Filter changes" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Kind"
          name="kind"
          value={kind}
          onChange={refilter(setKind)}
          options={[{ value: '', label: 'All kinds' }, ...KINDS.map((k) => ({ value: k, label: k }))]}
        />
        <TextInput
          label="Key id"
          name="keyId"
          value={keyId}
          onInput={refilter(setKeyId)}
          placeholder="16 hex characters"
        />
        {(
          [
            ['From', from, setFrom],
            ['To', to, setTo],
          ] as const
        ).map(([label, value, set]) => (
          <Field key={label} label={label}>
            {(id, describedBy) => (
              <input
                id={id}
                type="datetime-local"
                name={label.toLowerCase()}
                value={value}
                aria-describedby={describedBy}
                onInput={(e) => refilter(set)((e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
        ))}
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="Audit entries">
        <table class="audit" aria-busy={!loaded}>
          <caption class="sr-only">Admin changes, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Change</th>
              <th scope="col">Object</th>
              <th scope="col">Before → after</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-audit-id={e.id}>
                <td>{formatTime(e.at)}</td>
                <td>
                  {e.actor.name ?? e.actor.role}
                  <div class="muted mono">{e.actor.keyId}</div>
                </td>
                <td>
                  {e.kind} {e.action}
                </td>
                <td class="mono">{e.target}</td>
                <td>
                  <ul class="diff">
                    {changedFields(e.before, e.after).map(([field, b, a]) => (
                      <li key={field}>
                        <strong>{field}</strong>: <del>{b}</del> → <ins>{a}</ins>
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
            {loaded && items.length === 0 ? (
              <tr>
                <td colSpan={5} class="empty">
                  No changes match.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label="Audit pages"
        page={page}
        hasNext={Boolean(next)}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={() => {
          if (!next) return;
          setCursors((c) => [...c.slice(0, page + 1), next]);
          setPage(page + 1);
        }}
      />
    </section>
  );
}
