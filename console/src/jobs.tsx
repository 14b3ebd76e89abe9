import { useEffect, useState } from 'preact/hooks';
import { download, get, messageOf } from './api';
import { Notice, ProgressBar } from './components/ui';
import { isFinished, type Job, readJob } from './model';

export const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

const POLL_MS = 500;
/** A job is watched for at most this many polls (an hour at 500 ms); the task view has it after that. */
const MAX_POLLS = 7200;

/** Follows one job until it finishes: its latest state, polled. */
export function useJob(id: string | undefined): { job: Job | undefined; error: string | undefined } {
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!id) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let polls = 0;
    const poll = async () => {
      try {
        const j = readJob(await get<unknown>(jobPath(id)));
        if (stopped) return;
        setJob(j);
        setError(undefined);
        if (isFinished(j)) return;
      } catch (e) {
        if (stopped) return;
        setError(messageOf(e));
      }
      if (++polls < MAX_POLLS) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);
  return { job, error };
}

export function JobFiles(props: { job: Job }) {
  const { job } = props;
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const get = async (path: string, name: string) => {
    setError(undefined);
    try {
      setSaved(await download(path, name));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <span class="job-files">
      {job.resultFile ? (
        <button type="button" class="link" onClick={() => void get(job.resultFile!, `export-${job.id}.zip`)}>
          Download zip<span class="sr-only"> of job {job.id}</span>
        </button>
      ) : null}
      {job.errorsFile ? (
        <button type="button" class="link" onClick={() => void get(job.errorsFile!, `errors-${job.id}.csv`)}>
          Errors file<span class="sr-only"> of job {job.id}</span>
        </button>
      ) : null}
      {saved ? (
        <span class="sr-only" role="status">
          Saved {saved}
        </span>
      ) : null}
      {error ? <span class="error-text">{error}</span> : null}
    </span>
  );
}

/** A running job in a dialog: the progress bar, then the counts and the files. */
export function JobProgress(props: { id: string; label: string }) {
  const { job, error } = useJob(props.id);
  return (
    <section class="job-progress" aria-label={`${props.label} progress`}>
      <ProgressBar value={job?.progress ?? 0} label={`${props.label} progress`} />
      <p class="job-state">
        Job <span class="mono">{props.id}</span>:{' '}
        <strong data-state={job?.state ?? 'waiting'}>{job?.state ?? 'waiting'}</strong>
        {job?.phase && !isFinished(job) ? <span class="muted"> ({job.phase})</span> : null}
      </p>
      {job ? (
        <dl class="counts">
          {job.kind === 'export' ? (
            <>
              <dt>Exported</dt>
              <dd data-count="exported">{job.counts.exported}</dd>
            </>
          ) : (
            <>
              <dt>Read</dt>
              <dd data-count="read">{job.counts.read}</dd>
              <dt>Imported</dt>
              <dd data-count="imported">{job.counts.imported}</dd>
              <dt>Skipped</dt>
              <dd data-count="skipped">{job.counts.skipped}</dd>
            </>
          )}
          <dt>Failed</dt>
          <dd data-count="failed">{job.counts.failed}</dd>
        </dl>
      ) : null}
      {job?.error ? <Notice kind="error">{job.error}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {job && isFinished(job) ? <JobFiles job={job} /> : null}
    </section>
  );
}
