import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, fieldErrors, getAll, messageOf } from '../api';
import { nameOf, useCatalog } from '../catalog';
import {
  EXPORT_SCOPE_NONE,
  FormFailure,
  ScopeFields,
  ServerFileFields,
  serverFileBody,
  useFileServers,
  useServerFile,
} from '../components/shared-fields';
import { Dialog, Notice, SubmitOrCancel, TableWrap, TextInput } from '../components/ui';
import { useLatestRequest } from '../latest-request';
import { formatTime } from '../model';
import { PasswordField } from './export-dialog';
import { type ImportChoices, ImportChoicesFields, importFields } from './import-dialog';

export interface Schedule {
  id: string;
  kind: 'import' | 'export';
  name: string;
  cron: string;
  timezone?: string;
  state: 'active' | 'paused';
  file: { serverId: string; path?: string; fileName: string };
  params?: { ou?: string; groupId?: string; typeId?: string; overrideRule?: string };
  filter?: { ou?: string; groupId?: string; typeId?: string };
  nextRunAt?: number;
}

const isActive = (s: Schedule) => s.state !== 'paused';
const scopeOf = (s: Schedule) => (s.kind === 'import' ? s.params : s.filter) ?? {};

/** Scheduled import and export tasks: list, create, start/pause, delete, with the tenant's limits. */
export function SchedulesPage() {
  const catalog = useCatalog();
  const { servers } = useFileServers();
  const [items, setItems] = useState<Schedule[]>([]);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [creating, setCreating] = useState<'import' | 'export' | null>(null);

  const beginRequest = useLatestRequest();
  const load = useCallback(async () => {
    const newest = beginRequest();
    try {
      const items = await getAll<Schedule>('/v1/schedules');
      if (!newest()) return;
      setItems(items);
      setError(undefined);
    } catch (e) {
      if (newest()) setError(messageOf(e));
    }
  }, [beginRequest]);
  useEffect(() => {
    void load();
  }, [load]);

  const p = catalog.params;
  const limitOf = (kind: 'import' | 'export') =>
    (kind === 'import' ? p?.maxScheduledImports : p?.maxScheduledExports) ?? p?.scheduleLimit ?? 10;
  const countOf = (kind: 'import' | 'export') => items.filter((s) => s.kind === kind).length;

  const setActive = async (s: Schedule, on: boolean) => {
    try {
      await api('POST', `/v1/schedules/${encodeURIComponent(s.id)}/${on ? 'start' : 'pause'}`);
      setNotice(`${s.name} ${on ? 'started' : 'paused'}.`);
      await load();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const remove = async (s: Schedule) => {
    if (!window.confirm(`Delete the scheduled ${s.kind} "${s.name}"?`)) return;
    try {
      await api('DELETE', `/v1/schedules/${encodeURIComponent(s.id)}`);
      setNotice(`${s.name} deleted.`);
      await load();
    } catch (e) {
      setError(messageOf(e));
    }
  };

  return (
    <section aria-labelledby="schedules-title" class="page">
      <div class="page-head">
        <h1 id="schedules-title">Scheduled tasks</h1>
        <div class="toolbar">
          <button
            type="button"
            class="primary"
            disabled={countOf('import') >= limitOf('import')}
            onClick={() => setCreating('import')}
          >
            New scheduled import
          </button>
          <button
            type="button"
            disabled={countOf('export') >= limitOf('export')}
            onClick={() => setCreating('export')}
          >
            New scheduled export
          </button>
        </div>
      </div>
      <p class="limits" data-testid="schedule-limits">
        Scheduled imports: {countOf('import')} of {limitOf('import')} · Scheduled exports: {countOf('export')}{' '}
        of {limitOf('export')} (the tenant's limit)
      </p>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="Scheduled tasks">
        <table>
          <caption class="sr-only">Scheduled import and export tasks</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Executed time</th>
              <th scope="col">OU</th>
              <th scope="col">Group</th>
              <th scope="col">Type</th>
              <th scope="col">Server file</th>
              <th scope="col">State</th>
              <th scope="col">Next run</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-schedule-id={s.id}>
                <td>{s.name}</td>
                <td>{s.kind}</td>
                <td class="mono">
                  {s.cron}
                  {s.timezone && s.timezone !== 'UTC' ? ` (${s.timezone})` : ''}
                </td>
                <td>{nameOf(catalog.ous, scopeOf(s).ou)}</td>
                <td>{nameOf(catalog.groups, scopeOf(s).groupId)}</td>
                <td>{nameOf(catalog.types, scopeOf(s).typeId)}</td>
                <td class="mono">
                  {nameOf(servers, s.file?.serverId)}:{' '}
                  {[s.file?.path, s.file?.fileName].filter(Boolean).join('/')}
                </td>
                <td>{isActive(s) ? 'active' : 'paused'}</td>
                <td>{formatTime(s.nextRunAt)}</td>
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => void setActive(s, !isActive(s))}>
                    {isActive(s) ? 'Pause' : 'Start'}
                    <span class="sr-only"> {s.name}</span>
                  </button>
                  <button type="button" class="link danger" onClick={() => void remove(s)}>
                    Delete<span class="sr-only"> {s.name}</span>
                  </button>
                </td>
              </tr>
            ))}
            {items.length === 0 ? (
              <tr>
                <td colSpan={10} class="empty">
                  No scheduled tasks.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      {creating ? (
        <ScheduleDialog
          kind={creating}
          onClose={() => setCreating(null)}
          onCreated={(name) => {
            setCreating(null);
            setNotice(`${name} scheduled.`);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}

function ScheduleDialog(props: {
  kind: 'import' | 'export';
  onClose: () => void;
  onCreated: (name: string) => void;
}) {
  const server = useServerFile();
  const [name, setName] = useState('');
  const [cron, setCron] = useState('0 2 * * *');
  const [password, setPassword] = useState('');
  const [choices, setChoices] = useState<ImportChoices>({
    overrideRule: 'skip',
    ou: '',
    groupId: '',
    typeId: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const set = (k: keyof ImportChoices) => (v: string) => setChoices({ ...choices, [k]: v });

  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const body: Record<string, unknown> = {
      kind: props.kind,
      name: name.trim(),
      cron: cron.trim(),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
      file: serverFileBody(server),
    };
    if (props.kind === 'import') body.params = importFields(choices);
    else {
      body.password = password;
      const filter: Record<string, string> = {};
      if (choices.ou) filter.ou = choices.ou;
      if (choices.groupId) filter.groupId = choices.groupId;
      if (choices.typeId) filter.typeId = choices.typeId;
      body.filter = filter;
    }
    try {
      await api('POST', '/v1/schedules', { body });
      props.onCreated(name.trim());
    } catch (err) {
      const f = fieldErrors(err);
      for (const k of Object.keys(f)) f[k.replace(/^(file|params|filter)\./, '')] ??= f[k]!;
      setErrors(f);
      setFailure(messageOf(err));
    }
  };

  return (
    <Dialog
      title={props.kind === 'import' ? 'New scheduled import' : 'New scheduled export'}
      onClose={props.onClose}
      wide
      footer={<SubmitOrCancel form="schedule-form" onClose={props.onClose} label="Create" />}
    >
      <form id="schedule-form" class="grid-form" onSubmit={create} noValidate>
        <FormFailure failure={failure} />
        <TextInput
          label="Task name"
          name="name"
          value={name}
          onInput={setName}
          error={errors.name}
          required
          autofocus
        />
        <TextInput
          label="Executed time"
          name="cron"
          value={cron}
          onInput={setCron}
          error={errors.cron}
          required
          help="Cron: minute hour day month weekday, e.g. 0 2 * * * for 02:00 every day"
        />
        {props.kind === 'import' ? (
          <ImportChoicesFields value={choices} onChange={setChoices} errors={errors} />
        ) : (
          <ScopeFields prefix="export" none={EXPORT_SCOPE_NONE} value={choices} set={set} />
        )}
        <ServerFileFields {...server} errors={errors} />
        {props.kind === 'export' ? (
          <div class="span-2">
            <PasswordField value={password} onInput={setPassword} error={errors.password} />
          </div>
        ) : null}
      </form>
    </Dialog>
  );
}
