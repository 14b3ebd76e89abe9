import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, get, messageOf, type Page } from '../api';
import { nameOf, optionsOf, useCatalog } from '../catalog';
import { Field, Notice, Pager, Select, TableWrap, TextInput } from '../components/ui';
import { useLatestRequest } from '../latest-request';
import { type Decision, DIRECTION_OPTIONS, formatTime, type Rule } from '../model';
import { EMPTY_RULE_FILTERS as EMPTY, filterQuery, type RuleFilters } from '../rule-filters';
import { ExportDialog } from './export-dialog';
import { ImportDialog } from './import-dialog';
import { RuleDialog } from './rule-dialog';

const PAGE_SIZE = 20;

const DIRECTIONS = [{ value: '', label: 'Any direction' }, ...DIRECTION_OPTIONS];
const ACTIONS = [
  { value: '', label: 'Any action' },
  { value: 'block', label: 'Block' },
  { value: 'allow', label: 'Allow' },
];

type Dialog = { kind: 'new' } | { kind: 'edit'; rule: Rule } | { kind: 'import' } | { kind: 'export' } | null;

/** Configuration Center > Call Config > Blocklist: the rules, their search, and the check box. */
export function BlocklistPage() {
  const catalog = useCatalog();
  const [draft, setDraftState] = useState<RuleFilters>(EMPTY);
  // What the form holds now: a Search clicked right after typing must not read the last render's draft.
  const draftNow = useRef<RuleFilters>(EMPTY);
  const setDraft = (d: RuleFilters) => {
    draftNow.current = d;
    setDraftState(d);
  };
  const [filters, setFilters] = useState<RuleFilters>(EMPTY);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState(0);
  const [data, setData] = useState<Page<Rule> | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [dialog, setDialog] = useState<Dialog>(null);

  const beginRequest = useLatestRequest();
  const load = useCallback(async () => {
    const newest = beginRequest();
    setLoading(true);
    setError(undefined);
    try {
      const res = await get<Page<Rule>>('/v1/rules', {
        ...filterQuery(filters),
        limit: PAGE_SIZE,
        cursor: cursors[page],
        sort: '-updatedAt',
      });
      if (newest()) setData(res);
    } catch (e) {
      if (!newest()) return;
      setError(messageOf(e));
      setData(undefined);
    } finally {
      if (newest()) setLoading(false);
    }
  }, [filters, cursors, page, beginRequest]);

  useEffect(() => {
    void load();
  }, [load]);

  // #/blocklist/rule/42 (the dashboard's links to its top rules) opens that rule.
  useEffect(() => {
    const open = async () => {
      const id = /^#\/blocklist\/rule\/(\d+)$/.exec(location.hash)?.[1];
      if (!id) return;
      try {
        setDialog({ kind: 'edit', rule: await get<Rule>(`/v1/rules/${id}`) });
      } catch (e) {
        setError(`Rule ${id}: ${messageOf(e)}`);
      }
    };
    void open();
    addEventListener('hashchange', open);
    return () => removeEventListener('hashchange', open);
  }, []);
  const closeDialog = () => {
    setDialog(null);
    if (location.hash.startsWith('#/blocklist/rule/')) history.replaceState(null, '', '#/blocklist');
  };

  const search = (e: Event) => {
    e.preventDefault();
    setFilters(draftNow.current);
    setCursors([undefined]);
    setPage(0);
  };
  const reset = () => {
    setDraft(EMPTY);
    setFilters(EMPTY);
    setCursors([undefined]);
    setPage(0);
  };
  const next = () => {
    if (!data?.next) return;
    setCursors((c) => [...c.slice(0, page + 1), data.next]);
    setPage(page + 1);
  };
  const remove = async (rule: Rule) => {
    if (!window.confirm(`Delete rule ${rule.id} (${rule.called ?? rule.calling})?`)) return;
    try {
      await api('DELETE', `/v1/rules/${rule.id}`);
      setNotice(`Rule ${rule.id} deleted.`);
      await load();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const set = (k: keyof RuleFilters) => (v: string) => setDraft({ ...draftNow.current, [k]: v });

  return (
    <section aria-labelledby="blocklist-title" class="page">
      <div class="page-head">
        <h1 id="blocklist-title">Blocklist</h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setDialog({ kind: 'new' })}>
            New
          </button>
          <button type="button" onClick={() => setDialog({ kind: 'import' })}>
            Import
          </button>
          <button type="button" onClick={() => setDialog({ kind: 'export' })}>
            Export
          </button>
        </div>
      </div>

      <form class="filters" onSubmit={search} aria-label="Search rules">
        <TextInput
          label="Phone number"
          name="number"
          value={draft.number}
          onInput={set('number')}
          placeholder="e.g. 14045266123 or _1404!"
          autocomplete="off"
        />
        <Select
          label="Match"
          name="match"
          value={draft.match}
          onChange={set('match')}
          options={[
            { value: 'exact', label: 'Exactly this number or pattern' },
            { value: 'matching', label: 'Rules that would match this number' },
          ]}
        />
        <Select
          label="Group"
          name="group"
          value={draft.group}
          onChange={set('group')}
          options={optionsOf(catalog.groups, 'Any group')}
        />
        <Select
          label="Type"
          name="type"
          value={draft.type}
          onChange={set('type')}
          options={optionsOf(catalog.types, 'Any type')}
        />
        <Select
          label="OU"
          name="ou"
          value={draft.ou}
          onChange={set('ou')}
          options={optionsOf(catalog.ous, 'Any OU')}
        />
        <Select
          label="Direction"
          name="direction"
          value={draft.direction}
          onChange={set('direction')}
          options={DIRECTIONS}
        />
        <Select
          label="Action"
          name="action"
          value={draft.action}
          onChange={set('action')}
          options={ACTIONS}
        />
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Search
          </button>
          <button type="button" onClick={reset}>
            Reset
          </button>
        </div>
      </form>

      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}

      <TableWrap label="Rules">
        <table class="rules" aria-busy={loading}>
          <caption class="sr-only">Rules</caption>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Calling</th>
              <th scope="col">Direction</th>
              <th scope="col">Action</th>
              <th scope="col">Group</th>
              <th scope="col">Type</th>
              <th scope="col">OU</th>
              <th scope="col">Expires</th>
              <th scope="col">Remarks</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((r) => (
              <tr key={r.id} data-rule-id={r.id}>
                <td class="mono">{r.called ?? ''}</td>
                <td class="mono">{r.calling ?? ''}</td>
                <td>{r.direction}</td>
                <td>
                  <span class={`badge ${r.action}`}>{r.action}</span>
                </td>
                <td>{nameOf(catalog.groups, r.groupId)}</td>
                <td>{nameOf(catalog.types, r.typeId)}</td>
                <td>{nameOf(catalog.ous, r.ou)}</td>
                <td>{r.expiresAt ? formatTime(r.expiresAt) : 'Permanent'}</td>
                <td class="remarks">{r.remarks ?? ''}</td>
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => setDialog({ kind: 'edit', rule: r })}>
                    Edit<span class="sr-only"> rule {r.id}</span>
                  </button>
                  <button type="button" class="link danger" onClick={() => void remove(r)}>
                    Delete<span class="sr-only"> rule {r.id}</span>
                  </button>
                </td>
              </tr>
            ))}
            {data && data.items.length === 0 ? (
              <tr>
                <td colSpan={10} class="empty">
                  No rules match.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label="Rule pages"
        page={page}
        total={data?.total}
        hasNext={Boolean(data?.next)}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={next}
      />

      <CheckCall />

      {dialog?.kind === 'new' || dialog?.kind === 'edit' ? (
        <RuleDialog
          rule={dialog.kind === 'edit' ? dialog.rule : undefined}
          onClose={closeDialog}
          onSaved={(msg) => {
            closeDialog();
            setNotice(msg);
            void load();
          }}
        />
      ) : null}
      {dialog?.kind === 'import' ? (
        <ImportDialog
          onClose={() => {
            setDialog(null);
            void load();
          }}
        />
      ) : null}
      {dialog?.kind === 'export' ? <ExportDialog filters={filters} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

/** "Check a call": the decision for one number, with the matched rule and why it won. */
function CheckCall() {
  const [called, setCalled] = useState('');
  const [calling, setCalling] = useState('');
  const [direction, setDirection] = useState('outbound');
  const [task, setTask] = useState('');
  const [at, setAt] = useState('');
  const [result, setResult] = useState<Decision>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const check = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: Record<string, string> = { called: called.trim(), direction };
      if (calling.trim()) body.calling = calling.trim();
      if (task.trim()) body.task = task.trim();
      // datetime-local is the browser's local time; the API takes an ISO instant.
      if (at) body.at = new Date(at).toISOString();
      setResult(await api<Decision>('POST', '/v1/check', { body }));
    } catch (err) {
      setResult(undefined);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card check" aria-labelledby="check-title">
      <h2 id="check-title">Check a call</h2>
      <form class="check-form" onSubmit={check}>
        <TextInput
          label="Called number"
          name="check-called"
          value={called}
          onInput={setCalled}
          required
          autocomplete="off"
        />
        <TextInput
          label="Calling number"
          name="check-calling"
          value={calling}
          onInput={setCalling}
          autocomplete="off"
        />
        <Select
          label="Direction"
          name="check-direction"
          value={direction}
          onChange={setDirection}
          options={[
            { value: 'outbound', label: 'Outbound' },
            { value: 'inbound', label: 'Inbound' },
          ]}
        />
        <TextInput
          label="Task"
          name="check-task"
          value={task}
          onInput={setTask}
          autocomplete="off"
          placeholder="outbound task id (groups, policies)"
        />
        <Field label="At (optional)" help="Your local time; empty: now. For contact policies and expiry.">
          {(id, describedBy) => (
            <input
              id={id}
              type="datetime-local"
              name="check-at"
              value={at}
              aria-describedby={describedBy}
              onInput={(e) => setAt((e.currentTarget as HTMLInputElement).value)}
            />
          )}
        </Field>
        <div class="filter-buttons">
          <button type="submit" class="primary" disabled={busy}>
            Check
          </button>
        </div>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {result ? (
        <output class="decision" aria-live="polite">
          <p>
            Decision: <span class={`badge ${result.action}`}>{result.action}</span>
            {result.outcome.operation !== 'none' ? (
              <span> · {result.outcome.operation.replace(/_/g, ' ')}</span>
            ) : null}
          </p>
          <p class="why">{result.why}</p>
          {result.policy ? (
            <dl class="matched policy-outcome">
              <dt>Refused by contact policy</dt>
              <dd>
                {result.policy.name} <span class="mono">({result.policy.id})</span>
              </dd>
              <dt>Reason</dt>
              <dd class="policy-reason">{result.policy.reason}</dd>
            </dl>
          ) : null}
          {result.rule ? (
            <dl class="matched">
              <dt>Matched rule</dt>
              <dd>
                #{result.rule.id} {result.rule.called ?? ''}
                {result.rule.calling ? ` from ${result.rule.calling}` : ''} ({result.rule.direction})
                {result.rule.groupId ? `, group ${result.rule.groupId}` : ''}
                {result.rule.typeId ? `, type ${result.rule.typeId}` : ''}
                {result.rule.ou ? `, OU ${result.rule.ou}` : ''}
              </dd>
              {result.runnerUp ? (
                <>
                  <dt>Beat</dt>
                  <dd>rule #{result.runnerUp.id}</dd>
                </>
              ) : null}
            </dl>
          ) : (
            <p>{result.policy ? 'No rule matched.' : 'No rule matched: the tenant default applies.'}</p>
          )}
        </output>
      ) : null}
    </section>
  );
}
