import { useEffect, useState } from 'preact/hooks';
import { api, getAll, messageOf } from '../api';
import { useCatalog } from '../catalog';
import { Notice, TableWrap, TextInput } from '../components/ui';
import type { ContactPolicy } from '../model';

interface Binding {
  taskId: string;
  groups: string[];
  /** The contact policies the task's calls are checked against. */
  policies: string[];
}

const SEEN_STORAGE = 'callguard.tasks';

/** Task ids looked at in this browser session, so that the page lists them again after a reload. */
function seenTasks(): string[] {
  try {
    const v = JSON.parse(sessionStorage.getItem(SEEN_STORAGE) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 200) : [];
  } catch {
    return [];
  }
}

/** Task bindings: which blocklist groups and contact policies each outbound task is bound to. */
export function BindingsPage() {
  const catalog = useCatalog();
  const [taskId, setTaskId] = useState('');
  const [bindings, setBindings] = useState<Binding[]>([]);
  const [editing, setEditing] = useState<Binding>();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const [policies, setPolicies] = useState<ContactPolicy[]>([]);
  useEffect(() => {
    getAll<ContactPolicy>('/v1/contact-policies').then(setPolicies, (err) => setError(messageOf(err)));
  }, []);

  const remember = (id: string) => {
    const ids = [id, ...seenTasks().filter((x) => x !== id)].slice(0, 200);
    sessionStorage.setItem(SEEN_STORAGE, JSON.stringify(ids));
  };
  const fetchBinding = async (id: string): Promise<Binding> => {
    const path = `/v1/tasks/${encodeURIComponent(id)}`;
    const [g, p] = await Promise.all([
      api<{ groups: string[] }>('GET', `${path}/groups`),
      api<{ policies: string[] }>('GET', `${path}/policies`),
    ]);
    return { taskId: id, groups: g.groups, policies: p.policies };
  };
  const upsert = (b: Binding) => setBindings((list) => [b, ...list.filter((x) => x.taskId !== b.taskId)]);

  const lookUp = async (e: Event) => {
    e.preventDefault();
    const id = taskId.trim();
    if (!id) return;
    setError(undefined);
    try {
      const b = await fetchBinding(id);
      upsert(b);
      remember(id);
      setEditing({ ...b });
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const loadSeen = async () => {
    setError(undefined);
    try {
      const list = await Promise.all(seenTasks().map(fetchBinding));
      setBindings(list);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const save = async () => {
    if (!editing) return;
    setError(undefined);
    try {
      const path = `/v1/tasks/${encodeURIComponent(editing.taskId)}`;
      const g = await api<{ groups: string[] }>('PUT', `${path}/groups`, {
        body: { groups: editing.groups },
      });
      const p = await api<{ policies: string[] }>('PUT', `${path}/policies`, {
        body: { policies: editing.policies },
      });
      const b = { taskId: editing.taskId, groups: g.groups, policies: p.policies };
      upsert(b);
      setNotice(
        `Task ${b.taskId} is bound to ${b.groups.length ? b.groups.join(', ') : 'no group'}` +
          ` and ${b.policies.length ? `contact policies ${b.policies.join(', ')}` : 'no contact policy'}.`,
      );
      setEditing(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const togglePolicy = (policy: string, on: boolean) =>
    editing &&
    setEditing({
      ...editing,
      policies: on ? [...editing.policies, policy] : editing.policies.filter((p) => p !== policy),
    });
  const toggle = (group: string, on: boolean) =>
    editing &&
    setEditing({
      ...editing,
      groups: on ? [...editing.groups, group] : editing.groups.filter((g) => g !== group),
    });

  return (
    <section aria-labelledby="bindings-title" class="page">
      <div class="page-head">
        <h1 id="bindings-title">Task bindings</h1>
        <div class="toolbar">
          <button type="button" onClick={() => void loadSeen()}>
            Show tasks looked at in this session
          </button>
        </div>
      </div>
      <p class="help">
        Rules in a group apply only to calls of the outbound tasks bound to it; rules without a group apply to
        every call. A task's calls that the rules allow are then checked against its contact policies.
      </p>
      <form class="filters" onSubmit={lookUp} aria-label="Find a task">
        <TextInput
          label="Outbound task id"
          name="taskId"
          value={taskId}
          onInput={setTaskId}
          required
          autocomplete="off"
        />
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Show / edit
          </button>
        </div>
      </form>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {editing ? (
        <fieldset class="card">
          <legend>
            Groups of task <span class="mono">{editing.taskId}</span>
          </legend>
          {catalog.groups.length === 0 ? (
            <p>No groups yet: create one in the Blocklist's New dialog.</p>
          ) : null}
          <div class="checks">
            {catalog.groups.map((g) => (
              <label key={g.id} class="inline">
                <input
                  type="checkbox"
                  name="binding-group"
                  value={g.id}
                  checked={editing.groups.includes(g.id)}
                  onChange={(e) => toggle(g.id, (e.currentTarget as HTMLInputElement).checked)}
                />{' '}
                {g.name}
              </label>
            ))}
          </div>
          <fieldset class="plain">
            <legend>Contact policies</legend>
            {policies.length === 0 ? (
              <p>No contact policies yet: create one on the Contact policies page.</p>
            ) : null}
            <div class="checks">
              {policies.map((p) => (
                <label key={p.id} class="inline">
                  <input
                    type="checkbox"
                    name="binding-policy"
                    value={p.id}
                    checked={editing.policies.includes(p.id)}
                    onChange={(e) => togglePolicy(p.id, (e.currentTarget as HTMLInputElement).checked)}
                  />{' '}
                  {p.name}
                </label>
              ))}
            </div>
          </fieldset>
          <div class="subform-actions">
            <button type="button" onClick={() => setEditing(undefined)}>
              Cancel
            </button>
            <button type="button" class="primary" onClick={() => void save()}>
              Save binding
            </button>
          </div>
        </fieldset>
      ) : null}
      <TableWrap label="Task bindings">
        <table>
          <caption class="sr-only">Task bindings</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Bound groups</th>
              <th scope="col">Contact policies</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {bindings.map((b) => (
              <tr key={b.taskId} data-task-id={b.taskId}>
                <td class="mono">{b.taskId}</td>
                <td>{b.groups.length ? b.groups.join(', ') : <span class="muted">none</span>}</td>
                <td>
                  {b.policies.length ? (
                    b.policies.map((id) => policies.find((p) => p.id === id)?.name ?? id).join(', ')
                  ) : (
                    <span class="muted">none</span>
                  )}
                </td>
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => setEditing({ ...b })}>
                    Edit<span class="sr-only"> task {b.taskId}</span>
                  </button>
                </td>
              </tr>
            ))}
            {bindings.length === 0 ? (
              <tr>
                <td colSpan={4} class="empty">
                  Look a task up by its id.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
}
