import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getAll, messageOf } from '../api';
import { optionsOf, useCatalog } from '../catalog';
import type { FileServer } from '../model';
import { Notice, type Option, Select, TextInput } from './ui';

type ScopeKey = 'ou' | 'groupId' | 'typeId';

/** The first choices of an export's scope selects: an empty filter exports from every one. */
export const EXPORT_SCOPE_NONE: Record<ScopeKey, string> = {
  ou: 'Every OU',
  groupId: 'Every group',
  typeId: 'Every type',
};

/**
 * The OU, group and type selects of imports and exports, named `<prefix>-ou`, `<prefix>-group` and
 * `<prefix>-type`; `none` labels each first (empty) choice.
 */
export function ScopeFields(props: {
  prefix: string;
  none: Record<ScopeKey, string>;
  value: Record<ScopeKey, string>;
  set: (k: ScopeKey) => (v: string) => void;
  errors?: Record<string, string>;
}) {
  const catalog = useCatalog();
  return (
    <>
      <Select
        label="OU"
        name={`${props.prefix}-ou`}
        value={props.value.ou}
        onChange={props.set('ou')}
        options={optionsOf(catalog.ous, props.none.ou)}
        error={props.errors?.ou}
      />
      <Select
        label="Group"
        name={`${props.prefix}-group`}
        value={props.value.groupId}
        onChange={props.set('groupId')}
        options={optionsOf(catalog.groups, props.none.groupId)}
        error={props.errors?.groupId}
      />
      <Select
        label="Type"
        name={`${props.prefix}-type`}
        value={props.value.typeId}
        onChange={props.set('typeId')}
        options={optionsOf(catalog.types, props.none.typeId)}
        error={props.errors?.typeId}
      />
    </>
  );
}

/** Server choices read "name (host)": the id of a registered server is a generated one. */
export function serverOptions(servers: readonly FileServer[]): Option[] {
  const first = servers.length ? 'Choose a server' : 'No file servers registered';
  return [
    { value: '', label: first },
    ...servers.map((s) => ({ value: s.id, label: `${s.name} (${s.host})` })),
  ];
}

/** The file servers registered for the tenant, for a select (an empty list with the error if they cannot be read). */
export function useFileServers(): { servers: FileServer[]; error: string | undefined } {
  const [servers, setServers] = useState<FileServer[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    getAll<FileServer>('/v1/file-servers')
      .then(setServers)
      .catch((e) => setError(messageOf(e)));
  }, []);
  return { servers, error };
}

/** The state of a server, folder and file name choice, with the servers to choose from. */
export function useServerFile() {
  const { servers, error } = useFileServers();
  const [serverId, onServerId] = useState('');
  const [path, onPath] = useState('');
  const [fileName, onFileName] = useState('');
  return { servers, serversError: error, serverId, onServerId, path, onPath, fileName, onFileName };
}

/** The server file an API request names: the folder and the file name trimmed. */
export const serverFileBody = (f: { serverId: string; path: string; fileName: string }) => ({
  serverId: f.serverId,
  path: f.path.trim(),
  fileName: f.fileName.trim(),
});

/** The file server, folder and file name of an import or export that reads or writes on a server. */
export function ServerFileFields(
  props: ReturnType<typeof useServerFile> & {
    errors: Record<string, string>;
    pathHelp?: ComponentChildren;
    fileNameHelp?: ComponentChildren;
  },
) {
  return (
    <>
      <Select
        label="Server"
        name="serverId"
        value={props.serverId}
        onChange={props.onServerId}
        options={serverOptions(props.servers)}
        error={props.errors.serverId ?? props.serversError}
        required
      />
      <TextInput
        label="File address"
        name="path"
        value={props.path}
        onInput={props.onPath}
        error={props.errors.path}
        help={props.pathHelp}
      />
      <TextInput
        label="File name"
        name="fileName"
        value={props.fileName}
        onInput={props.onFileName}
        error={props.errors.fileName}
        required
        help={props.fileNameHelp}
      />
    </>
  );
}

/** A segmented radio choice, e.g. where an import reads from or an export writes to. */
export function RadioChoice<T extends string>(props: {
  legend: string;
  name: string;
  value: T;
  onChange: (v: T) => void;
  options: ReadonlyArray<{ value: T; label: ComponentChildren }>;
}) {
  return (
    <fieldset class="span-2 segmented">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <label key={o.value} class="inline">
          <input
            type="radio"
            name={props.name}
            value={o.value}
            checked={props.value === o.value}
            onChange={() => props.onChange(o.value)}
          />{' '}
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** The error a form could not pin on one of its fields, across both columns of the grid. */
export function FormFailure(props: { failure: string | undefined }) {
  return props.failure ? (
    <div class="span-2">
      <Notice kind="error">{props.failure}</Notice>
    </div>
  ) : null;
}

/**
 * The id and name of a catalog object (group, type, OU, contact policy). The id is asked only for a
 * new object (ids do not change); `refersTo` says what refers to it.
 */
export function IdAndName(props: {
  isNew: boolean;
  id: string;
  onId: (v: string) => void;
  name: string;
  onName: (v: string) => void;
  errors: Record<string, string | undefined>;
  refersTo: string;
}) {
  return (
    <>
      {props.isNew ? (
        <TextInput
          label="Id"
          name="id"
          value={props.id}
          onInput={props.onId}
          error={props.errors.id}
          help={`Letters, digits and spaces; ${props.refersTo} refer to it.`}
          required
          autofocus
        />
      ) : null}
      <TextInput
        label="Name"
        name="name"
        value={props.name}
        onInput={props.onName}
        error={props.errors.name}
        required
      />
    </>
  );
}

/**
 * The OU and description of a catalog object (group, type, contact policy); `prefix` names them
 * where they sit inside another form (the rule dialog's new group: "Group OU", `group-ou`).
 */
export function OuAndDescription(props: {
  ou: string;
  onOu: (v: string) => void;
  description: string;
  onDescription: (v: string) => void;
  errors: Record<string, string | undefined>;
  prefix?: { label: string; name: string };
}) {
  const { ous } = useCatalog();
  const label = props.prefix ? `${props.prefix.label} ` : '';
  const name = props.prefix ? `${props.prefix.name}-` : '';
  return (
    <>
      <Select
        label={`${label}OU`}
        name={`${name}ou`}
        value={props.ou}
        onChange={props.onOu}
        error={props.errors.ou}
        options={optionsOf(ous, 'No OU')}
      />
      <TextInput
        label={label ? `${label}description` : 'Description'}
        name={`${name}description`}
        value={props.description}
        onInput={props.onDescription}
        error={props.errors.description}
      />
    </>
  );
}

/** Cancel and start while the form shows; only Close once the job runs. */
export function JobStartButtons(props: {
  jobId: string | undefined;
  busy: boolean;
  form: string;
  label: string;
  onClose: () => void;
}) {
  return (
    <>
      <button type="button" onClick={props.onClose}>
        {props.jobId ? 'Close' : 'Cancel'}
      </button>
      {props.jobId ? null : (
        <button type="submit" form={props.form} class="primary" disabled={props.busy}>
          {props.busy ? 'Starting…' : props.label}
        </button>
      )}
    </>
  );
}
