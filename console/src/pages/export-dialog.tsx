import { useState } from 'preact/hooks';
import { api, fieldErrors, messageOf } from '../api';
import {
  EXPORT_SCOPE_NONE,
  FormFailure,
  JobStartButtons,
  RadioChoice,
  ScopeFields,
  ServerFileFields,
  serverFileBody,
  useServerFile,
} from '../components/shared-fields';
import { Dialog, Field, Select, TextInput } from '../components/ui';
import { JobProgress } from '../jobs';
import { checkPassword, DIRECTION_OPTIONS, readJob } from '../model';
import type { RuleFilters } from '../rule-filters';

/** The compression password with a show/hide toggle and its rule checked as the user types. */
export function PasswordField(props: {
  value: string;
  onInput: (v: string) => void;
  error?: string;
  label?: string;
}) {
  const [shown, setShown] = useState(false);
  const c = checkPassword(props.value);
  const item = (ok: boolean, text: string) => (
    <li class={ok ? 'ok' : 'todo'}>
      <span aria-hidden="true">{ok ? '✓' : '•'}</span> {text}
      <span class="sr-only">{ok ? ' (met)' : ' (not met)'}</span>
    </li>
  );
  return (
    <Field
      label={props.label ?? 'Compression password'}
      error={props.error}
      required
      help={
        <ul class="rule-list" aria-label="Password rule">
          {item(c.length, '8 to 12 characters')}
          {item(c.letter && c.digit, 'letters and digits')}
          {item(c.special, 'at least one of @ _ ? = . *')}
          {item(c.onlyAllowed, 'no other characters')}
        </ul>
      }
    >
      {(id, describedBy, invalid) => (
        <div class="password">
          {/* Two inputs rather than one with a changing type: the typed JSX of an input fixes its type. */}
          {shown ? (
            <input
              id={id}
              name="password"
              type="text"
              autocomplete="off"
              value={props.value}
              aria-describedby={describedBy}
              aria-invalid={invalid || (props.value !== '' && !c.ok)}
              onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
            />
          ) : (
            <input
              id={id}
              name="password"
              type="password"
              autocomplete="new-password"
              value={props.value}
              aria-describedby={describedBy}
              aria-invalid={invalid || (props.value !== '' && !c.ok)}
              onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
            />
          )}
          <button type="button" aria-pressed={shown} onClick={() => setShown(!shown)}>
            {shown ? 'Hide' : 'Show'}
            <span class="sr-only"> password</span>
          </button>
        </div>
      )}
    </Field>
  );
}

export interface ExportFilterForm {
  ou: string;
  groupId: string;
  typeId: string;
  direction: string;
  action: string;
  numberPrefix: string;
}

/**
 * The export filter the page's search suggests. The export API selects numbers by their leading digits
 * only, so a searched number carries over only when it is a prefix pattern (_1404! → 1404).
 */
export function exportFilterOf(f: RuleFilters): ExportFilterForm {
  const prefix = /^_([0-9*#]{1,32})[!.]$/.exec(f.number.trim());
  return {
    ou: f.ou,
    groupId: f.group,
    typeId: f.type,
    direction: f.direction,
    action: f.action,
    numberPrefix: prefix ? prefix[1]! : '',
  };
}

const filterBody = (f: ExportFilterForm): Record<string, string> =>
  Object.fromEntries(
    Object.entries(f)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => [k, v.trim()]),
  );

/** Export dialog: the rules the page's search selects, as an encrypted zip to download or to a server. */
export function ExportDialog(props: { filters: RuleFilters; onClose: () => void }) {
  const [target, setTarget] = useState<'file' | 'server'>('file');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string>();
  const server = useServerFile();
  const [filter, setFilter] = useState<ExportFilterForm>(exportFilterOf(props.filters));
  const setF = (k: keyof ExportFilterForm) => (v: string) => setFilter({ ...filter, [k]: v });

  const start = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const missing: Record<string, string> = {};
    if (!checkPassword(password).ok) missing.password = 'The password does not follow the rule below';
    if (target === 'server' && !server.serverId) missing.serverId = 'Choose a server';
    if (target === 'server' && !server.fileName.trim()) missing.fileName = 'Give the zip a file name';
    if (filter.numberPrefix.trim() && !/^[0-9*#]{1,32}$/.test(filter.numberPrefix.trim())) {
      missing.numberPrefix = 'Digits, * or # only (up to 32)';
    }
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      return;
    }
    setBusy(true);
    try {
      const body = {
        password,
        filter: filterBody(filter),
        // a file server file is named as schedules name it; no file: a download
        ...(target === 'server' ? { file: serverFileBody(server) } : {}),
      };
      setJobId(readJob(await api<unknown>('POST', '/v1/exports', { body })).id);
    } catch (err) {
      const f = fieldErrors(err);
      for (const k of Object.keys(f)) f[k.replace(/^(target|filter)\./, '')] ??= f[k]!;
      setErrors(f);
      if (!f.password) setFailure(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Export blocklist"
      onClose={props.onClose}
      wide
      footer={
        <JobStartButtons
          jobId={jobId}
          busy={busy}
          form="export-form"
          label="Export"
          onClose={props.onClose}
        />
      }
    >
      {jobId ? (
        <JobProgress id={jobId} label="Export" />
      ) : (
        <form id="export-form" class="grid-form" onSubmit={start} noValidate>
          <FormFailure failure={failure} />
          <p class="span-2 help">
            The rules this key may see that match the filter below, as CSV files of at most 100,000 records in
            one AES-256 encrypted zip (at most 2,000,000 records).
          </p>
          <ScopeFields prefix="export" none={EXPORT_SCOPE_NONE} value={filter} set={setF} errors={errors} />
          <Select
            label="Direction"
            name="export-direction"
            value={filter.direction}
            onChange={setF('direction')}
            options={[{ value: '', label: 'Every direction' }, ...DIRECTION_OPTIONS]}
          />
          <Select
            label="Action"
            name="export-action"
            value={filter.action}
            onChange={setF('action')}
            options={[
              { value: '', label: 'Every action' },
              { value: 'block', label: 'Block' },
              { value: 'allow', label: 'Allow' },
            ]}
          />
          <TextInput
            label="Numbers starting with"
            name="numberPrefix"
            value={filter.numberPrefix}
            onInput={setF('numberPrefix')}
            error={errors.numberPrefix}
            placeholder="e.g. 1404"
          />
          <RadioChoice
            legend="Export to"
            name="target"
            value={target}
            onChange={setTarget}
            options={[
              { value: 'file', label: 'File (download)' },
              { value: 'server', label: 'Server' },
            ]}
          />
          <div class="span-2">
            <PasswordField value={password} onInput={setPassword} error={errors.password} />
          </div>
          {target === 'server' ? (
            <ServerFileFields
              {...server}
              errors={errors}
              pathHelp="Folder under the server's root"
              fileNameHelp="e.g. blocklist.zip"
            />
          ) : null}
        </form>
      )}
    </Dialog>
  );
}
