import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, forgetKey, messageOf, onSignedOut, storedKey, storeKey } from './api';
import { CatalogProvider, useCatalog } from './catalog';
import { Notice } from './components/ui';
import type { Params } from './model';
import { AuditPage } from './pages/audit-page';
import { BindingsPage } from './pages/bindings-page';
import { BlocklistPage } from './pages/blocklist-page';
import { GroupsPage, OusPage, TypesPage } from './pages/catalog-pages';
import { DashboardPage } from './pages/dashboard-page';
import { DeadLettersPage } from './pages/dead-letters-page';
import { FileServersPage } from './pages/file-servers-page';
import { JobsPage } from './pages/jobs-page';
import { KeysPage } from './pages/keys-page';
import { LivePage } from './pages/live-page';
import { ParamsPage } from './pages/params-page';
import { PoliciesPage } from './pages/policies-page';
import { SchedulesPage } from './pages/schedules-page';

const PAGES = [
  { hash: '#/dashboard', label: 'Dashboard', view: DashboardPage },
  { hash: '#/live', label: 'Live decisions', view: LivePage },
  { hash: '#/blocklist', label: 'Blocklist', view: BlocklistPage },
  { hash: '#/tasks', label: 'Tasks', view: JobsPage },
  { hash: '#/schedules', label: 'Scheduled tasks', view: SchedulesPage },
  { hash: '#/bindings', label: 'Task bindings', view: BindingsPage },
  { hash: '#/groups', label: 'Groups', view: GroupsPage },
  { hash: '#/types', label: 'Types', view: TypesPage },
  { hash: '#/policies', label: 'Contact policies', view: PoliciesPage },
  { hash: '#/ous', label: 'OUs', view: OusPage },
  { hash: '#/keys', label: 'API keys', view: KeysPage },
  { hash: '#/params', label: 'Parameters', view: ParamsPage },
  { hash: '#/file-servers', label: 'File servers', view: FileServersPage },
  { hash: '#/dead-letters', label: 'Dead letters', view: DeadLettersPage },
  { hash: '#/audit', label: 'Audit', view: AuditPage },
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || PAGES[0].hash);
  useEffect(() => {
    const on = () => setHash(location.hash || PAGES[0].hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** The tenant a key belongs to: keys read cgk.<tenant>.<secret>. */
const tenantOfKey = (key: string): string | undefined => /^cgk\.(.+)\.[^.]+$/.exec(key)?.[1];

export function App() {
  const [key, setKey] = useState(storedKey());
  const [expired, setExpired] = useState(false);
  useEffect(
    () =>
      onSignedOut(() => {
        forgetKey();
        setExpired(true);
        setKey(null);
      }),
    [],
  );
  if (!key) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={(k) => {
          storeKey(k);
          setExpired(false);
          setKey(k);
        }}
      />
    );
  }
  return (
    <CatalogProvider>
      <Shell
        tenant={tenantOfKey(key)}
        onSignOut={() => {
          forgetKey();
          setKey(null);
        }}
      />
    </CatalogProvider>
  );
}

function Shell(props: { tenant: string | undefined; onSignOut: () => void }) {
  const hash = useHash();
  const catalog = useCatalog();
  const page = PAGES.find((p) => hash.startsWith(p.hash)) ?? PAGES[0];
  const View = page.view;
  useEffect(() => {
    document.title = `${page.label} · callguard`;
    document.getElementById('main')?.focus();
  }, [page]);
  return (
    <div class="shell">
      {/* A button, not a link to #main: the hash is the page route here. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <div class="brand">
          callguard <span class="muted">Configuration Center › Call Config</span>
        </div>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.hash}>
                <a href={p.hash} aria-current={p === page ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {props.tenant ? (
            <span>
              Tenant <strong>{props.tenant}</strong>
            </span>
          ) : null}
          {catalog.params?.dataIsolation ? <span class="badge info">data isolation on</span> : null}
          {catalog.params?.unsignedWebhooks ? (
            <span
              class="badge block"
              title="The tenant chose to send webhooks without a signature (no webhookSecret)"
            >
              webhooks unsigned
            </span>
          ) : null}
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {catalog.error ? <Notice kind="error">{catalog.error}</Notice> : null}
        <View />
      </main>
    </div>
  );
}

function SignIn(props: { expired: boolean; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Paste your API key');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      // Any tenant key may read the parameters: a cheap way to know the key works.
      await api<Params>('GET', '/v1/params', { key: k });
      props.onSignedIn(k);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'This API key is not valid (unknown or revoked).'
          : messageOf(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <form class="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">callguard console</h1>
        <p class="muted">
          Sign in with a tenant API key. It is kept in this tab only and forgotten when the tab closes.
        </p>
        {props.expired ? <Notice kind="info">The API refused the key; sign in again.</Notice> : null}
        <div class={error ? 'field invalid' : 'field'}>
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="apiKey"
            type="password"
            autocomplete="off"
            spellcheck={false}
            value={key}
            aria-invalid={Boolean(error)}
            aria-describedby={error ? 'api-key-err' : undefined}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
          />
          {error ? (
            <div class="error-text" id="api-key-err" role="alert">
              {error}
            </div>
          ) : null}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
