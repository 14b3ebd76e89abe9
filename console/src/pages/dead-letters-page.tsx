import { useCallback, useState } from 'preact/hooks';
import { api, get, messageOf, type Page } from '../api';
import { Dialog, Notice, Pager, TableWrap } from '../components/ui';
import { useLoaded } from '../latest-request';

interface DeadLetter {
  id: string;
  eventId: string;
  type: string;
  target: string;
  url: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  failedAt: string;
  event: unknown;
}

const PAGE_SIZE = 50;

/** Webhook deliveries that used up their attempts: inspect what was sent, deliver again, or dismiss. */
export function DeadLettersPage() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState(0);
  const list = useLoaded(
    useCallback(
      () => get<Page<DeadLetter>>('/v1/dead-letters', { limit: PAGE_SIZE, cursor: cursors[page] }),
      [cursors, page],
    ),
    messageOf,
  );
  const items = list.value?.items ?? [];
  const next = list.value?.next;
  const loaded = list.loaded;
  const [open, setOpen] = useState<DeadLetter>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const error = failure ?? list.error;

  const act = async (d: DeadLetter, how: 'redeliver' | 'dismiss') => {
    setNotice(undefined);
    setFailure(undefined);
    try {
      if (how === 'redeliver') await api('POST', `/v1/dead-letters/${d.id}/redeliver`);
      else await api('DELETE', `/v1/dead-letters/${d.id}`);
      setNotice(
        how === 'redeliver'
          ? `Event ${d.eventId} queued for delivery again.`
          : `Dead letter ${d.id} dismissed.`,
      );
      setOpen(undefined);
      await list.reload();
    } catch (e) {
      setFailure(messageOf(e));
    }
  };

  return (
    <section aria-labelledby="dead-title" class="page">
      <div class="page-head">
        <h1 id="dead-title">Dead letters</h1>
        <div class="toolbar">
          <button type="button" onClick={() => void list.reload()}>
            Refresh
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="Dead letters">
        <table class="dead-letters" aria-busy={!loaded}>
          <caption class="sr-only">Webhook deliveries that failed for good, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Failed at</th>
              <th scope="col">Event</th>
              <th scope="col">To</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} data-dead-letter-id={d.id}>
                <td>{d.failedAt.replace('T', ' ').slice(0, 19)}</td>
                <td>
                  {d.type}
                  <div class="muted mono">{d.eventId}</div>
                </td>
                <td class="mono small">{d.url}</td>
                <td>{d.attempts}</td>
                <td>{d.lastStatus === null ? d.lastError : `HTTP ${d.lastStatus}`}</td>
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => setOpen(d)}>
                    Inspect<span class="sr-only"> {d.eventId}</span>
                  </button>
                  <button type="button" class="link" onClick={() => void act(d, 'redeliver')}>
                    Redeliver<span class="sr-only"> {d.eventId}</span>
                  </button>
                  <button type="button" class="link danger" onClick={() => void act(d, 'dismiss')}>
                    Dismiss<span class="sr-only"> {d.eventId}</span>
                  </button>
                </td>
              </tr>
            ))}
            {loaded && items.length === 0 ? (
              <tr>
                <td colSpan={6} class="empty">
                  No dead letters: every webhook was delivered.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label="Dead letter pages"
        page={page}
        total={list.value?.total}
        hasNext={Boolean(next)}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={() => {
          if (!next) return;
          setCursors((c) => [...c.slice(0, page + 1), next]);
          setPage(page + 1);
        }}
      />
      {open ? (
        <Dialog
          title={`Dead letter ${open.id}`}
          wide
          onClose={() => setOpen(undefined)}
          footer={
            <>
              <button type="button" onClick={() => void act(open, 'dismiss')}>
                Dismiss
              </button>
              <button type="button" class="primary" onClick={() => void act(open, 'redeliver')}>
                Redeliver
              </button>
            </>
          }
        >
          <p>
            {open.type} to <span class="mono">{open.url}</span>: {open.attempts} attempts, last{' '}
            {open.lastStatus === null ? open.lastError : `HTTP ${open.lastStatus}`}.
          </p>
          <figure class="body">
            <figcaption>The event as it was sent</figcaption>
            <pre>{JSON.stringify(open.event, null, 2)}</pre>
          </figure>
        </Dialog>
      ) : null}
    </section>
  );
}
