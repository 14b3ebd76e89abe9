import { useCallback, useState } from 'preact/hooks';
import { api, failureOutside, fieldErrors, get, messageOf } from '../api';
import { FormFailure } from '../components/shared-fields';
import { Dialog, Notice, SubmitOrCancel, TableWrap, TextArea, TextInput } from '../components/ui';
import { useLoaded } from '../latest-request';
import { formatTime } from '../model';

interface FileServerView {
  id: string;
  name: string;
  host: string;
  port: number;
  username: string;
  root: string;
  hostKeySha256?: string;
  hasPassword: boolean;
  hasPrivateKey: boolean;
  createdAt: number;
}

/** SFTP file servers for imports and exports: secrets are write-only, the host key's fingerprint is shown. */
export function FileServersPage() {
  const list = useLoaded(
    useCallback(() => get<{ items: FileServerView[] }>('/v1/file-servers'), []),
    messageOf,
  );
  const servers = list.value?.items ?? [];
  const loaded = list.loaded;
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const error = failure ?? list.error;

  const remove = async (s: FileServerView) => {
    if (!window.confirm(`Remove the file server "${s.name}"?`)) return;
    setNotice(undefined);
    try {
      await api('DELETE', `/v1/file-servers/${encodeURIComponent(s.id)}`);
      setNotice(`File server "${s.name}" removed.`);
      await list.reload();
    } catch (e) {
      setFailure(messageOf(e));
    }
  };

  return (
    <section aria-labelledby="servers-title" class="page">
      <div class="page-head">
        <h1 id="servers-title">File servers</h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New file server
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="File servers">
        <table class="servers" aria-busy={!loaded}>
          <caption class="sr-only">SFTP file servers</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Host</th>
              <th scope="col">User</th>
              <th scope="col">Root folder</th>
              <th scope="col">Sign-in</th>
              <th scope="col">Host key (SHA-256)</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {servers.map((s) => (
              <tr key={s.id} data-server-id={s.id}>
                <td>{s.name}</td>
                <td class="mono">
                  {s.host}:{s.port}
                </td>
                <td>{s.username}</td>
                <td class="mono">{s.root}</td>
                <td>
                  {[s.hasPassword ? 'password' : '', s.hasPrivateKey ? 'private key' : '']
                    .filter(Boolean)
                    .join(', ')}
                </td>
                <td class="mono small">{s.hostKeySha256 ?? 'recorded at first connection'}</td>
                <td>{formatTime(s.createdAt)}</td>
                <td class="row-actions">
                  <button type="button" class="link danger" onClick={() => void remove(s)}>
                    Remove<span class="sr-only"> {s.name}</span>
                  </button>
                </td>
              </tr>
            ))}
            {loaded && servers.length === 0 ? (
              <tr>
                <td colSpan={8} class="empty">
                  No file servers yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      {creating ? (
        <ServerDialog
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setCreating(false);
            setNotice(`File server "${s.name}" added.`);
            void list.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function ServerDialog(props: { onClose: () => void; onCreated: (s: FileServerView) => void }) {
  const [f, setF] = useState({
    name: '',
    host: '',
    port: '22',
    username: '',
    password: '',
    privateKey: '',
    hostKeySha256: '',
    root: '/',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });

  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const body: Record<string, unknown> = {
      name: f.name.trim(),
      host: f.host.trim(),
      port: Number(f.port),
      username: f.username,
      root: f.root,
    };
    if (f.password) body.password = f.password;
    if (f.privateKey.trim()) body.privateKey = f.privateKey;
    if (f.hostKeySha256.trim()) body.hostKeySha256 = f.hostKeySha256.trim();
    try {
      props.onCreated(await api<FileServerView>('POST', '/v1/file-servers', { body }));
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      setFailure(
        failureOutside(err, fields, [
          'name',
          'host',
          'port',
          'username',
          'password',
          'root',
          'privateKey',
          'hostKeySha256',
        ]),
      );
    }
  };

  return (
    <Dialog
      title="New file server"
      wide
      onClose={props.onClose}
      footer={<SubmitOrCancel form="server-form" onClose={props.onClose} label="Add file server" />}
    >
      <form id="server-form" class="grid-form" onSubmit={(e) => void create(e)} noValidate>
        <FormFailure failure={failure} />
        <TextInput
          label="Name"
          name="name"
          value={f.name}
          onInput={set('name')}
          error={errors.name}
          required
          autofocus
        />
        <TextInput
          label="Host"
          name="host"
          value={f.host}
          onInput={set('host')}
          error={errors.host}
          required
        />
        <TextInput label="Port" name="port" value={f.port} onInput={set('port')} error={errors.port} />
        <TextInput
          label="User name"
          name="username"
          value={f.username}
          onInput={set('username')}
          error={errors.username}
          required
        />
        <TextInput
          label="Password"
          name="password"
          value={f.password}
          onInput={set('password')}
          error={errors.password}
          help="Or a private key below; stored sealed, never shown again."
        />
        <TextInput
          label="Root folder"
          name="root"
          value={f.root}
          onInput={set('root')}
          error={errors.root}
          required
        />
        <TextArea
          label="Private key"
          name="privateKey"
          value={f.privateKey}
          onInput={set('privateKey')}
          error={errors.privateKey}
        />
        <TextInput
          label="Host key fingerprint"
          name="hostKeySha256"
          value={f.hostKeySha256}
          onInput={set('hostKeySha256')}
          error={errors.hostKeySha256}
          help="SHA256:… as ssh-keygen -l prints it. Empty: the key seen at the first connection is pinned."
        />
      </form>
    </Dialog>
  );
}
