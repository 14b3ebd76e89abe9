import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, messageOf, type Page } from '../api';
import { Notice, Pager, ProgressBar, TableWrap } from '../components/ui';
import { JobFiles } from '../jobs';
import { useLatestRequest } from '../latest-request';
import { formatTime, isFinished, type Job, readJob } from '../model';

// The task view lists the newest jobs (the API keeps finished ones for the job file time to live).
const PAGE_SIZE = 100;
const REFRESH_MS = 1000;

/** Task view: every import and export job with its state, progress, counts and files. */
export function JobsPage() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState(0);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [next, setNext] = useState<string>();
  const [total, setTotal] = useState<number>();
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);

  const beginRequest = useLatestRequest();
  const load = useCallback(async () => {
    const newest = beginRequest();
    try {
      const res = await get<Page<unknown>>('/v1/jobs', { limit: PAGE_SIZE, cursor: cursors[page] });
      if (!newest()) return;
      setJobs(res.items.map(readJob));
      setNext(res.next);
      setTotal(res.total);
      setError(undefined);
    } catch (e) {
      if (newest()) setError(messageOf(e));
    } finally {
      if (newest()) setLoaded(true);
    }
  }, [cursors, page, beginRequest]);

  useEffect(() => {
    void load();
  }, [load]);

  // Refresh while a job on the page still runs.
  const running = jobs.some((j) => !isFinished(j));
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => void load(), REFRESH_MS);
    return () => clearTimeout(t);
  }, [running, jobs, load]);

  return (
    <section aria-labelledby="jobs-title" class="page">
      <div class="page-head">
        <h1 id="jobs-title">Tasks</h1>
        <div class="toolbar">
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
        </div>
      </div>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label="Tasks">
        <table class="jobs" aria-busy={!loaded}>
          <caption class="sr-only">Import and export jobs</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Records</th>
              <th scope="col">Imported</th>
              <th scope="col">Skipped</th>
              <th scope="col">Failed</th>
              <th scope="col">Created</th>
              <th scope="col">Finished</th>
              <th scope="col">Files</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-job-id={j.id}>
                <td class="mono">{j.id}</td>
                <td>
                  {j.kind}
                  {j.scheduleId ? <span class="muted"> (scheduled)</span> : null}
                </td>
                <td>
                  <span class={`state ${j.state}`}>{j.state}</span>
                  {j.error ? <div class="error-text">{j.error}</div> : null}
                </td>
                <td class="progress-cell">
                  <ProgressBar value={j.progress} label={`Job ${j.id} progress`} />
                </td>
                <td>{j.kind === 'export' ? j.counts.exported : j.counts.read}</td>
                <td>{j.kind === 'export' ? '' : j.counts.imported}</td>
                <td>{j.kind === 'export' ? '' : j.counts.skipped}</td>
                <td>{j.counts.failed}</td>
                <td>{formatTime(j.createdAt)}</td>
                <td>{formatTime(j.finishedAt)}</td>
                <td>
                  <JobFiles job={j} />
                </td>
              </tr>
            ))}
            {loaded && jobs.length === 0 ? (
              <tr>
                <td colSpan={11} class="empty">
                  No import or export jobs yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label="Job pages"
        page={page}
        total={total}
        hasNext={Boolean(next)}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={() => {
          if (!next) return;
          setCursors((c) => [...c.slice(0, page + 1), next]);
          setPage(page + 1);
        }}
      />
    </section>
  );
}
