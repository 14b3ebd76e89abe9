import { useEffect, useRef, useState } from 'preact/hooks';
import type { Query } from '../api';
import { Notice, Select, TextInput } from '../components/ui';
import { followDecisions, type LiveDecision, type StreamState } from '../decision-stream';

/** Decisions kept on the page (the oldest go first). */
const KEEP = 500;
/** Decisions shown on arrival, before the live ones. */
const RECENT = 50;
/** Scrolled further than this from the newest decision: the list holds still. */
const PAUSE_AT_PX = 24;

interface Filters {
  direction: string;
  action: string;
  task: string;
  agent: string;
  number: string;
}
const NO_FILTERS: Filters = { direction: '', action: '', task: '', agent: '', number: '' };

const queryOf = (f: Filters): Query => ({
  direction: f.direction || undefined,
  action: f.action || undefined,
  task: f.task.trim() || undefined,
  agent: f.agent.trim() || undefined,
  number: f.number.trim() || undefined,
});

const STATE_LABEL: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  failed: 'Stopped',
};

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * The tenant's decisions as they happen, newest first, filtered on the server. Scrolling back (or
 * "Pause") holds the list still; what arrives meanwhile waits behind the "N new" button.
 */
export function LivePage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [shown, setShown] = useState<LiveDecision[]>([]);
  const [waiting, setWaiting] = useState<LiveDecision[]>([]);
  const [paused, setPausedState] = useState(false);
  const [state, setState] = useState<StreamState>('connecting');
  const [failure, setFailure] = useState<string>();
  const pausedNow = useRef(false);
  const list = useRef<HTMLElement>(null);

  const setPaused = (p: boolean) => {
    pausedNow.current = p;
    setPausedState(p);
  };

  useEffect(() => {
    const stop = new AbortController();
    setShown([]);
    setWaiting([]);
    setFailure(undefined);
    void followDecisions(queryOf(filters), RECENT, stop.signal, {
      recent: (items) => setShown(items),
      decision: (d) => {
        if (pausedNow.current) setWaiting((w) => [d, ...w].slice(0, KEEP));
        else setShown((s) => [d, ...s].slice(0, KEEP));
      },
      state: (s, message) => {
        setState(s);
        if (message) setFailure(message);
      },
    });
    return () => stop.abort();
  }, [filters]);

  const resume = () => {
    setShown((s) => [...waiting, ...s].slice(0, KEEP));
    setWaiting([]);
    setPaused(false);
    list.current?.scrollTo({ top: 0 });
  };
  const onScroll = () => {
    const away = (list.current?.scrollTop ?? 0) > PAUSE_AT_PX;
    if (away && !pausedNow.current) setPaused(true);
  };
  const set = (k: keyof Filters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));

  return (
    <section aria-labelledby="live-title" class="page live">
      <div class="page-head">
        <h1 id="live-title">Live decisions</h1>
        <div class="toolbar">
          <span role="status" class={`badge ${state === 'live' ? 'allow' : 'info'}`}>
            {paused && state === 'live' ? 'Paused' : STATE_LABEL[state]}
          </span>
          {paused ? (
            <button type="button" class="primary" onClick={resume}>
              {waiting.length > 0 ? `${waiting.length} new · Resume` : 'Resume'}
            </button>
          ) : (
            <button type="button" onClick={() => setPaused(true)}>
              Pause
            </button>
          )}
        </div>
      </div>

      <form
        class="filters"
        aria-label="Filter decisions"
        onSubmit={(e) => {
          e.preventDefault();
          setPaused(false);
          setFilters(draft);
        }}
      >
        <Select
          label="Direction"
          name="direction"
          value={draft.direction}
          onChange={set('direction')}
          options={[
            { value: '', label: 'Any direction' },
            { value: 'outbound', label: 'Outbound' },
            { value: 'inbound', label: 'Inbound' },
          ]}
        />
        <Select
          label="Result"
          name="action"
          value={draft.action}
          onChange={set('action')}
          options={[
            { value: '', label: 'Any result' },
            { value: 'block', label: 'Blocked' },
            { value: 'allow', label: 'Allowed' },
          ]}
        />
        <TextInput label="Task" name="task" value={draft.task} onInput={set('task')} autocomplete="off" />
        <TextInput label="Agent" name="agent" value={draft.agent} onInput={set('agent')} autocomplete="off" />
        <TextInput
          label="Number"
          name="number"
          value={draft.number}
          onInput={set('number')}
          autocomplete="off"
          placeholder="called or calling"
        />
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(NO_FILTERS);
              setPaused(false);
              setFilters(NO_FILTERS);
            }}
          >
            Clear
          </button>
        </div>
      </form>

      {failure ? <Notice kind="error">{failure}</Notice> : null}
      <p class="muted">
        The latest {RECENT} decisions, then each new one as it happens, newest first; the last {KEEP} are
        kept. Allowed calls may be sampled (the server’s CALLGUARD_AUDIT_ALLOW_SAMPLE).
      </p>

      <section
        class="table-wrap live-list"
        ref={list}
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus, so that keyboard users can scroll it
        tabIndex={0}
        aria-label="Decisions"
      >
        <table class="decisions" aria-live="off">
          <caption class="sr-only">Decisions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Result</th>
              <th scope="col">Direction</th>
              <th scope="col">Called</th>
              <th scope="col">Calling</th>
              <th scope="col">Task</th>
              <th scope="col">Agent</th>
              <th scope="col">Rule</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.id} data-decision-id={d.id}>
                <td>{time(d.at)}</td>
                <td>
                  <span class={`badge ${d.action}`}>{d.action}</span>
                </td>
                <td>{d.direction}</td>
                <td class="mono">{d.called}</td>
                <td class="mono">{d.calling}</td>
                <td>{d.task ?? ''}</td>
                <td>{d.agent ?? ''}</td>
                <td>{d.ruleId === null ? '' : <a href={`#/blocklist/rule/${d.ruleId}`}>#{d.ruleId}</a>}</td>
                <td>
                  {d.basis === 'rule'
                    ? d.operation === 'none'
                      ? 'rule'
                      : d.operation.replace(/_/g, ' ')
                    : d.basis.replace(/-/g, ' ')}
                </td>
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={9} class="empty">
                  Waiting for calls…
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>
    </section>
  );
}
