import { useCallback, useState } from 'preact/hooks';
import { api, failureOutside, fieldErrors, get, messageOf } from '../api';
import { useCatalog } from '../catalog';
import { FormFailure } from '../components/shared-fields';
import { Dialog, Field, Notice, Select, SubmitOrCancel, TableWrap, TextInput } from '../components/ui';
import { useLoaded } from '../latest-request';
import { formatTime } from '../model';

interface ApiKey {
  id: string;
  name?: string;
  role: 'tenant_admin' | 'agent';
  permissions: string[];
  ous: string[];
  createdAt: number;
  expiresAt?: number;
  lastUsedAt?: number;
  agentId?: string;
}

const PERMISSIONS = [
  'rules:read',
  'rules:create',
  'rules:update',
  'rules:delete',
  'rules:import',
  'rules:export',
  'groups:manage',
  'types:manage',
  'tasks:bind',
  'params:manage',
  'servers:manage',
];

/** API keys: who may use the API and the console; a new key is shown once, then only its id. */
export function KeysPage() {
  const list = useLoaded(
    useCallback(() => get<{ items: ApiKey[] }>('/v1/keys'), []),
    messageOf,
  );
  const keys = list.value?.items ?? [];
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ key: string; record: ApiKey }>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const error = failure ?? list.error;

  const revoke = async (k: ApiKey) => {
    if (!window.confirm(`Revoke the key ${k.name ?? k.id}? Whoever uses it is signed out within seconds.`))
      return;
    setNotice(undefined);
    try {
      await api('DELETE', `/v1/keys/${k.id}`);
      setNotice(`Key ${k.name ?? k.id} revoked.`);
      await list.reload();
    } catch (e) {
      setFailure(messageOf(e));
    }
  };

  return (
    <section aria-labelledby="keys-title" class="page">
      <div class="page-head">
        <h1 id="keys-title">API keys</h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New key
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {created ? (
        <div class="once" role="status">
          <p>
            The new key <strong>{created.record.name ?? created.record.id}</strong> is shown this once; copy
            it now.
          </p>
          <code class="mono key-once">{created.key}</code>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <TableWrap label="API keys">
        <table class="keys" aria-busy={!list.loaded}>
          <caption class="sr-only">API keys of the tenant</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">OUs</th>
              <th scope="col">Permissions</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td class="mono">{k.id}</td>
                <td>{k.name ?? ''}</td>
                <td>{k.role === 'agent' ? `agent${k.agentId ? ` ${k.agentId}` : ''}` : 'tenant admin'}</td>
                <td>{k.ous.join(', ')}</td>
                <td class="small">{k.role === 'tenant_admin' ? 'all' : k.permissions.join(', ')}</td>
                <td>{formatTime(k.createdAt)}</td>
                <td>{k.expiresAt ? formatTime(k.expiresAt) : 'never'}</td>
                <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'never'}</td>
                <td class="row-actions">
                  <button type="button" class="link danger" onClick={() => void revoke(k)}>
                    Revoke<span class="sr-only"> {k.name ?? k.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {creating ? (
        <KeyDialog
          onClose={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c);
            void list.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function KeyDialog(props: { onClose: () => void; onCreated: (c: { key: string; record: ApiKey }) => void }) {
  const catalog = useCatalog();
  const [name, setName] = useState('');
  const [role, setRole] = useState<'tenant_admin' | 'agent'>('agent');
  const [permissions, setPermissions] = useState<string[]>(['rules:read']);
  const [ous, setOus] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();

  const toggle = (list: string[], set: (v: string[]) => void, value: string, on: boolean) =>
    set(on ? [...list, value] : list.filter((x) => x !== value));

  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const expiresMs = expires ? new Date(expires).getTime() : undefined;
    if (expiresMs !== undefined && !Number.isFinite(expiresMs)) {
      setErrors({ expiresAt: 'a date and time, such as 2027-06-30 18:00' });
      return;
    }
    const expiresAt = expiresMs === undefined ? undefined : new Date(expiresMs).toISOString();
    try {
      const c = await api<{ key: string; record: ApiKey }>('POST', '/v1/keys', {
        body: {
          role,
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(role === 'agent' ? { permissions, ous } : {}),
          ...(expiresAt ? { expiresAt } : {}),
        },
      });
      props.onCreated(c);
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      setFailure(failureOutside(err, f, ['name', 'role', 'expiresAt', 'permissions', 'ous']));
    }
  };

  return (
    <Dialog
      title="New API key"
      wide
      onClose={props.onClose}
      footer={<SubmitOrCancel form="key-form" onClose={props.onClose} label="Create key" />}
    >
      <form id="key-form" class="grid-form" onSubmit={(e) => void create(e)} noValidate>
        <FormFailure failure={failure} />
        <TextInput
          label="Name"
          name="name"
          value={name}
          onInput={setName}
          error={errors.name}
          autofocus
          help="Who or what uses the key."
        />
        <Select
          label="Role"
          name="role"
          value={role}
          onChange={(v) => setRole(v as 'tenant_admin' | 'agent')}
          error={errors.role}
          options={[
            { value: 'agent', label: 'Agent' },
            { value: 'tenant_admin', label: 'Tenant admin (every permission)' },
          ]}
        />
        <Field label="Expires" error={errors.expiresAt} help="Empty: until revoked.">
          {(id, describedBy, invalid) => (
            <input
              id={id}
              type="datetime-local"
              name="expires"
              value={expires}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onInput={(e) => setExpires((e.currentTarget as HTMLInputElement).value)}
            />
          )}
        </Field>
        {role === 'agent' ? (
          <>
            <fieldset class="span-2 checks">
              <legend>Permissions</legend>
              {PERMISSIONS.map((p) => (
                <label key={p}>
                  <input
                    type="checkbox"
                    checked={permissions.includes(p)}
                    onChange={(e) =>
                      toggle(permissions, setPermissions, p, (e.currentTarget as HTMLInputElement).checked)
                    }
                  />{' '}
                  {p}
                </label>
              ))}
            </fieldset>
            <fieldset class="span-2 checks">
              <legend>OUs the agent may see when data isolation is on</legend>
              {catalog.ous.map((o) => (
                <label key={o.id}>
                  <input
                    type="checkbox"
                    checked={ous.includes(o.id)}
                    onChange={(e) => toggle(ous, setOus, o.id, (e.currentTarget as HTMLInputElement).checked)}
                  />{' '}
                  {o.name}
                </label>
              ))}
              {errors.ous ? <p class="error-text">{errors.ous}</p> : null}
            </fieldset>
          </>
        ) : null}
      </form>
    </Dialog>
  );
}
