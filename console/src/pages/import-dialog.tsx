import { useState } from 'preact/hooks';
import { api, download, fieldErrors, messageOf } from '../api';
import {
  FormFailure,
  JobStartButtons,
  RadioChoice,
  ScopeFields,
  ServerFileFields,
  serverFileBody,
  useServerFile,
} from '../components/shared-fields';
import { Dialog, Field, Select } from '../components/ui';
import { JobProgress } from '../jobs';
import { readJob } from '../model';

export const UPLOAD_LIMIT = 50_000;
export const SERVER_LIMIT = 2_000_000;

export const OVERRIDE_RULES = [
  { value: 'skip', label: 'Skip duplicates (keep the existing rule)' },
  { value: 'override', label: 'Override duplicates (the file wins)' },
  { value: 'overwrite', label: 'Overwrite all (the file replaces every rule of the OU and group)' },
];

/** The defaults and the override rule an import sends beside its file. */
export interface ImportChoices {
  overrideRule: string;
  ou: string;
  groupId: string;
  typeId: string;
}

export function importFields(c: ImportChoices): Record<string, string> {
  const out: Record<string, string> = { overrideRule: c.overrideRule };
  if (c.ou) out.ou = c.ou;
  if (c.groupId) out.groupId = c.groupId;
  if (c.typeId) out.typeId = c.typeId;
  return out;
}

export function ImportChoicesFields(props: {
  value: ImportChoices;
  onChange: (c: ImportChoices) => void;
  errors: Record<string, string>;
}) {
  const c = props.value;
  const set = (k: keyof ImportChoices) => (v: string) => props.onChange({ ...c, [k]: v });
  return (
    <>
      <Select
        label="Override rule"
        name="overrideRule"
        value={c.overrideRule}
        onChange={set('overrideRule')}
        options={OVERRIDE_RULES}
        error={props.errors.overrideRule}
      />
      <ScopeFields
        prefix="import"
        none={{ ou: 'From the file / none', groupId: 'From the file / none', typeId: 'From the file / none' }}
        value={c}
        set={set}
        errors={props.errors}
      />
    </>
  );
}

/** Import dialog: a file upload (≤ 50,000 records) or a file on a registered server (≤ 2,000,000). */
export function ImportDialog(props: { onClose: () => void }) {
  const [source, setSource] = useState<'file' | 'server'>('file');
  const [choices, setChoices] = useState<ImportChoices>({
    overrideRule: 'skip',
    ou: '',
    groupId: '',
    typeId: '',
  });
  const [file, setFile] = useState<File>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string>();
  const server = useServerFile();

  const template = async () => {
    try {
      await download('/v1/imports/template', 'blocklist-import-template.csv');
    } catch (e) {
      setFailure(`Template: ${messageOf(e)}`);
    }
  };

  const start = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const missing: Record<string, string> = {};
    if (source === 'file' && !file) missing.file = 'Choose a CSV file';
    if (source === 'server' && !server.serverId) missing.serverId = 'Choose a server';
    if (source === 'server' && !server.fileName.trim()) missing.fileName = 'Give the file name';
    if (choices.overrideRule === 'overwrite' && !choices.ou)
      missing.ou = 'Overwrite all replaces the rules of one OU: choose it';
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      return;
    }
    setBusy(true);
    try {
      let res: unknown;
      if (source === 'file') {
        // The fields go before the file part: the API reads them first, then streams the file.
        const form = new FormData();
        for (const [k, v] of Object.entries(importFields(choices))) form.append(k, v);
        form.append('file', file!, file!.name);
        res = await api<unknown>('POST', '/v1/imports', { form });
      } else {
        res = await api<unknown>('POST', '/v1/imports', {
          body: { ...importFields(choices), ...serverFileBody(server) },
        });
      }
      setJobId(readJob(res).id);
    } catch (err) {
      const f = fieldErrors(err);
      for (const k of Object.keys(f)) {
        const short = k.replace(/^source\./, '');
        f[short] ??= f[k]!;
      }
      setErrors(f);
      setFailure(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Import blocklist"
      onClose={props.onClose}
      wide
      footer={
        <>
          <button type="button" onClick={() => void template()}>
            Download template
          </button>
          <span class="spacer" />
          <JobStartButtons
            jobId={jobId}
            busy={busy}
            form="import-form"
            label="Import"
            onClose={props.onClose}
          />
        </>
      }
    >
      {jobId ? (
        <JobProgress id={jobId} label="Import" />
      ) : (
        <form id="import-form" class="grid-form" onSubmit={start} noValidate>
          <FormFailure failure={failure} />
          <RadioChoice
            legend="Source"
            name="source"
            value={source}
            onChange={setSource}
            options={[
              { value: 'file', label: <>Using a file (up to {UPLOAD_LIMIT.toLocaleString('en')} records)</> },
              {
                value: 'server',
                label: <>Using a server (up to {SERVER_LIMIT.toLocaleString('en')} records)</>,
              },
            ]}
          />
          {source === 'file' ? (
            <div class="span-2">
              <Field label="File (CSV, the template's columns)" error={errors.file} required>
                {(id, describedBy, invalid) => (
                  <input
                    id={id}
                    type="file"
                    name="file"
                    accept=".csv,text/csv,text/plain"
                    aria-describedby={describedBy}
                    aria-invalid={invalid}
                    onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0])}
                  />
                )}
              </Field>
            </div>
          ) : (
            <ServerFileFields
              {...server}
              errors={errors}
              pathHelp="Folder under the server's root, e.g. imports/2026"
            />
          )}
          <ImportChoicesFields value={choices} onChange={setChoices} errors={errors} />
        </form>
      )}
    </Dialog>
  );
}
