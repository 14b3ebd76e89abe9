import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, messageOf } from '../api';
import { Notice } from '../components/ui';

/**
 * The agent desktop (/console/agent): sign in with an agent key, then every pop-up and wrap-up of
 * that agent arrives live over GET /v1/agents/{agentId}/events (Server-Sent Events), newest first.
 * EventSource cannot send an Authorization header, so the key goes in a cookie scoped to that one
 * URL (SameSite=Strict, gone with the browser session); the key itself stays in sessionStorage.
 */

const KEY_STORAGE = 'callguard.agentKey';
const KEY_COOKIE = 'callguard_key';
/** Pop-ups kept on screen. */
const MAX_SHOWN = 100;

interface Me {
  tenant: string;
  role: string;
  agentId?: string;
}

/** The webhook body the stream carries. */
interface AgentEvent {
  id: string;
  type: 'agent.popup' | 'call.wrapped_up';
  createdAt: string;
  data: {
    callId: string;
    direction: string;
    task?: string;
    agent?: string;
    number: string;
    promptContent?: string;
    jumpAddress?: string;
    businessResult?: string;
    at: string;
  };
}

type Status = 'connecting' | 'connected' | 'reconnecting' | 'refused';

const eventsPath = (agentId: string) => `/v1/agents/${encodeURIComponent(agentId)}/events`;

function setKeyCookie(agentId: string, key: string | null): void {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  const path = `; Path=${eventsPath(agentId)}; SameSite=Strict${secure}`;
  // biome-ignore lint/suspicious/noDocumentCookie: one session cookie with a fixed name; the Cookie Store API is not in every browser agents use.
  document.cookie =
    key === null ? `${KEY_COOKIE}=; Max-Age=0${path}` : `${KEY_COOKIE}=${encodeURIComponent(key)}${path}`;
}

/** Only http(s) links are shown as links (a stored `javascript:` address must not run here). */
const safeLink = (url: string | undefined): string | undefined =>
  url && /^https?:\/\//i.test(url) ? url : undefined;

/** A short tone for a new pop-up; silently nothing where audio is not allowed. */
function beep(ctx: AudioContext | undefined): void {
  if (!ctx) return;
  try {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.15);
  } catch {
    // no sound, the highlight still shows
  }
}

export function AgentDesk() {
  const [key, setKey] = useState(sessionStorage.getItem(KEY_STORAGE));
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<string>();
  const audio = useRef<AudioContext | undefined>(undefined);

  useEffect(() => {
    document.title = 'Agent desktop · callguard';
  }, []);

  // A stored key (page reload): find its agent again. Only a refused key signs out; a server or
  // network that is away for a moment is said and tried again, the key kept.
  const [lookups, setLookups] = useState(0);
  useEffect(() => {
    if (!key || me) return;
    let retry: ReturnType<typeof setTimeout> | undefined;
    api<Me>('GET', '/v1/agents/me', { key }).then(
      (m) => (m.agentId ? setMe(m) : signOut('This key has no agent id.')),
      (err) => {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) signOut(messageOf(err));
        else {
          setError(`${messageOf(err)}; trying again`);
          retry = setTimeout(() => setLookups((n) => n + 1), 3_000);
        }
      },
    );
    return () => clearTimeout(retry);
  }, [key, me, lookups]);

  const signOut = (message?: string) => {
    if (me?.agentId) setKeyCookie(me.agentId, null);
    sessionStorage.removeItem(KEY_STORAGE);
    setKey(null);
    setMe(undefined);
    setError(message);
  };

  if (!key || !me?.agentId) {
    return (
      <AgentSignIn
        error={error}
        onSignedIn={(k, m) => {
          // Created in the click: browsers allow sound only after a gesture.
          try {
            audio.current ??= new AudioContext();
          } catch {
            audio.current = undefined;
          }
          sessionStorage.setItem(KEY_STORAGE, k);
          setError(undefined);
          setKey(k);
          setMe(m);
        }}
      />
    );
  }
  return (
    <Desk agentKey={key} me={me as Me & { agentId: string }} audio={audio.current} onSignOut={signOut} />
  );
}

function Desk(props: {
  agentKey: string;
  me: Me & { agentId: string };
  audio: AudioContext | undefined;
  onSignOut: (message?: string) => void;
}) {
  const { agentId } = props.me;
  const [events, setEvents] = useState<AgentEvent[]>([]);
  const [status, setStatus] = useState<Status>('connecting');
  const [fresh, setFresh] = useState<string>();
  const lastId = useRef<string | undefined>(undefined);

  useEffect(() => {
    setKeyCookie(agentId, props.agentKey);
    // The key is kept in this tab only: its cookie goes when the tab does (a reload sets it again).
    const dropCookie = () => setKeyCookie(agentId, null);
    addEventListener('pagehide', dropCookie);
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let attempt = 0;
    const connect = () => {
      // A stream the browser gave up on is opened again by hand, resuming after the last event seen.
      const query = lastId.current ? `?lastEventId=${encodeURIComponent(lastId.current)}` : '';
      source = new EventSource(`${eventsPath(agentId)}${query}`);
      source.onopen = () => {
        attempt = 0;
        setStatus('connected');
      };
      source.onmessage = (m: MessageEvent<string>) => {
        let event: AgentEvent;
        try {
          event = JSON.parse(m.data) as AgentEvent;
        } catch {
          return;
        }
        lastId.current = m.lastEventId || event.id;
        setEvents((list) => [event, ...list.filter((e) => e.id !== event.id)].slice(0, MAX_SHOWN));
        setFresh(event.id);
        if (event.type === 'agent.popup') beep(props.audio);
      };
      source.onerror = () => {
        if (stopped || !source) return;
        if (source.readyState === EventSource.CONNECTING) {
          setStatus('reconnecting');
          return;
        }
        // Closed for good (the server refused, or the browser stopped retrying): check why, then retry.
        source.close();
        setStatus('reconnecting');
        api<Me>('GET', '/v1/agents/me', { key: props.agentKey }).then(
          () => {
            attempt++;
            retry = setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
          },
          (err) => {
            if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
              setStatus('refused');
              props.onSignOut('The API refused the key; sign in again.');
            } else {
              attempt++;
              retry = setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
            }
          },
        );
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
      removeEventListener('pagehide', dropCookie);
    };
  }, [agentId]);

  useEffect(() => {
    const popups = events.filter((e) => e.type === 'agent.popup').length;
    document.title = popups > 0 ? `(${popups}) Agent desktop · callguard` : 'Agent desktop · callguard';
  }, [events]);

  return (
    <div class="shell agent-desk">
      <header class="top">
        <div class="brand">
          callguard <span class="muted">Agent desktop</span>
        </div>
        <div class="who">
          <span>
            Agent <strong>{agentId}</strong> · tenant <strong>{props.me.tenant}</strong>
          </span>
          <span class={`badge status-${status}`} role="status" aria-live="polite">
            {status === 'connected'
              ? 'Live'
              : status === 'connecting'
                ? 'Connecting…'
                : status === 'reconnecting'
                  ? 'Reconnecting…'
                  : 'Signed out'}
          </span>
          <button type="button" onClick={() => props.onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>Pop-ups</h1>
        {events.length === 0 ? (
          <p class="muted">
            Waiting for pop-ups. A call blocked by a “Pop Up” rule shows here the moment it is stopped.
          </p>
        ) : null}
        <ol class="popups" aria-label="Pop-ups, newest first">
          {events.map((e) => (
            <PopupCard key={e.id} event={e} fresh={e.id === fresh} />
          ))}
        </ol>
      </main>
    </div>
  );
}

function PopupCard(props: { event: AgentEvent; fresh: boolean }) {
  const { event } = props;
  const d = event.data;
  const link = safeLink(d.jumpAddress);
  const popup = event.type === 'agent.popup';
  return (
    <li class={`popup card${props.fresh ? ' fresh' : ''}${popup ? '' : ' wrapup'}`} data-event-id={event.id}>
      <div class="popup-head">
        <span class={`badge ${popup ? 'block' : 'info'}`}>{popup ? 'Pop-up' : 'Wrapped up'}</span>
        <strong class="mono popup-number">{d.number}</strong>
        <span class="muted">
          {d.direction}
          {d.task ? ` · task ${d.task}` : ''} · {new Date(d.at).toLocaleTimeString()}
        </span>
      </div>
      {d.promptContent ? <p class="popup-prompt">{d.promptContent}</p> : null}
      <dl class="popup-facts">
        {d.businessResult ? (
          <>
            <dt>Business result</dt>
            <dd>{d.businessResult}</dd>
          </>
        ) : null}
        {link ? (
          <>
            <dt>Open</dt>
            <dd>
              <a href={link} target="_blank" rel="noopener noreferrer">
                {link}
              </a>
            </dd>
          </>
        ) : d.jumpAddress ? (
          <>
            <dt>Address</dt>
            <dd class="mono">{d.jumpAddress}</dd>
          </>
        ) : null}
      </dl>
    </li>
  );
}

function AgentSignIn(props: { error?: string; onSignedIn: (key: string, me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(props.error);
  // an error that comes after the form shows (a stored key's lookup failing) is shown too
  useEffect(() => setError(props.error), [props.error]);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Paste your agent key');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const me = await api<Me>('GET', '/v1/agents/me', { key: k });
      if (!me.agentId) {
        setError(
          'This key has no agent id. Ask your administrator for an agent key created with "agentId" (the agent of your calls).',
        );
        return;
      }
      props.onSignedIn(k, me);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'This key is not valid (unknown or revoked).'
          : messageOf(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <form class="card" onSubmit={submit} aria-labelledby="agent-signin-title">
        <h1 id="agent-signin-title">Agent desktop</h1>
        <p class="muted">
          Sign in with your agent key to see pop-ups live. The key is kept in this tab only.
        </p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <div class="field">
          <label for="agent-key">Agent key</label>
          <input
            id="agent-key"
            name="agentKey"
            type="password"
            autocomplete="off"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
