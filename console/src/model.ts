/** The API's resources as the console reads them (the OpenAPI document at /openapi.json is the truth). */

export type Direction = 'inbound' | 'outbound' | 'both';
export type Action = 'block' | 'allow';

/** A rule's directions as a select lists them. */
export const DIRECTION_OPTIONS: ReadonlyArray<{ value: Direction; label: string }> = [
  { value: 'outbound', label: 'Outbound' },
  { value: 'inbound', label: 'Inbound' },
  { value: 'both', label: 'Both' },
];
export type ValidityUnit = 'hour' | 'day' | 'month' | 'year';

export interface Rule {
  id: number;
  called?: string;
  calling?: string;
  direction: Direction;
  action: Action;
  groupId?: string;
  typeId?: string;
  ou?: string;
  sbc?: string;
  provider?: string;
  customerGroup?: string;
  user?: string;
  callingCountry?: string;
  expiresAt?: number;
  updatedAt: number;
  remarks?: string;
}

export interface Ou {
  id: string;
  name: string;
  parent?: string;
}

export interface Group {
  id: string;
  name: string;
  ou?: string;
  description?: string;
}

export type BlocklistType =
  | {
      id: string;
      name: string;
      ou?: string;
      description?: string;
      operation: 'auto_wrap_up';
      businessResult: string;
    }
  | {
      id: string;
      name: string;
      ou?: string;
      description?: string;
      operation: 'pop_up';
      promptContent: string;
      jumpAddress: string;
      businessResult?: string;
    };

export interface Decision {
  action: Action;
  rule: Rule | null;
  runnerUp: { id: number } | null;
  outcome: { operation: 'none' | 'auto_wrap_up' | 'pop_up'; [k: string]: unknown };
  why: string;
  /** The contact policy of the task that refused a call the rules allow, and why. */
  policy?: { id: string; name: string; reason: string };
}

export interface Params {
  dataIsolation: boolean;
  scheduleLimit?: number;
  maxScheduledImports?: number;
  maxScheduledExports?: number;
  normalization: { mode: 'e164'; defaultCountry: string } | { mode: 'digits' };
  [k: string]: unknown;
}

export interface FileServer {
  id: string;
  name: string;
  host: string;
  port?: number;
  root?: string;
}

export interface JobCounts {
  read: number;
  imported: number;
  skipped: number;
  failed: number;
  exported?: number;
}

/** A bulk job (import or export) as the task view shows it (GET /v1/jobs, GET /v1/jobs/:id). */
export interface Job {
  id: string;
  kind: 'import' | 'export' | string;
  state: string;
  phase?: string;
  /** 0-100. */
  progress: number;
  counts: JobCounts;
  createdAt?: number;
  finishedAt?: number;
  error?: string;
  /** API paths of the errors CSV and of an export's zip, when there are such files. */
  errorsFile?: string;
  resultFile?: string;
  scheduleId?: string;
  startedBy?: string;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};

/**
 * Reads a job view. A submit answers with the job or `{ jobId }`; progress is the counts so far and,
 * once the file is counted, its `total` records.
 */
export function readJob(raw: unknown): Job {
  const outer = obj(raw);
  const j = outer.job && typeof outer.job === 'object' ? obj(outer.job) : outer;
  const p = obj(j.progress);
  const result = obj(j.result);
  const state = str(j.state) ?? 'waiting';
  const kind = str(j.kind) ?? 'job';
  const counts: JobCounts = {
    read: num(p.read ?? result.read),
    imported: num(p.imported ?? result.imported),
    skipped: num(p.skipped ?? result.skipped),
    failed: num(p.failed ?? result.failed),
    exported: Math.max(num(p.exported), num(result.records)),
  };
  const total = num(p.total);
  let progress = 0;
  if (state === 'completed') progress = 100;
  else if (total > 0) progress = ((kind === 'export' ? counts.exported! : counts.read) / total) * 100;
  else if (typeof j.progress === 'number') progress = j.progress;
  // Never show 100% before the job says it is done (the last step after reading is applying).
  if (state !== 'completed') progress = Math.min(progress, 99);
  const error = obj(j.error);
  return {
    id: String(j.id ?? j.jobId ?? ''),
    kind,
    state,
    phase: str(p.phase),
    progress: Math.max(0, Math.min(100, Math.floor(progress))),
    counts,
    createdAt: typeof j.createdAt === 'number' ? j.createdAt : undefined,
    finishedAt: typeof j.finishedAt === 'number' ? j.finishedAt : undefined,
    error: str(error.message) ?? str(j.error),
    errorsFile: str(j.errorsFile),
    resultFile: str(j.resultFile),
    scheduleId: str(j.scheduleId),
    startedBy: str(j.startedBy),
  };
}

export const FINISHED_STATES = new Set(['completed', 'failed']);

export const isFinished = (job: Job): boolean => FINISHED_STATES.has(job.state);

/** The compression password rule (the API checks the same): 8-12 of letters, digits and @ _ ? = . *. */
export interface PasswordCheck {
  readonly length: boolean;
  readonly letter: boolean;
  readonly digit: boolean;
  readonly special: boolean;
  readonly onlyAllowed: boolean;
  readonly ok: boolean;
}

export function checkPassword(p: string): PasswordCheck {
  const length = p.length >= 8 && p.length <= 12;
  const letter = /[A-Za-z]/.test(p);
  const digit = /[0-9]/.test(p);
  const special = /[@_?=.*]/.test(p);
  const onlyAllowed = /^[A-Za-z0-9@_?=.*]*$/.test(p);
  return {
    length,
    letter,
    digit,
    special,
    onlyAllowed,
    ok: length && letter && digit && special && onlyAllowed,
  };
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
export type CapPeriod = 'day' | '24h' | '7d';

/** A contact policy as the API keeps it (src/domain/contact-policy.ts). */
export interface ContactPolicy {
  id: string;
  name: string;
  ou?: string;
  description?: string;
  zone: string;
  fallbackZone?: string;
  window?: {
    hours: Array<{ days: Weekday[]; from: string; to: string }>;
    holidays?: string[];
  };
  caps?: Array<{ max: number; per: CapPeriod }>;
  countBy: 'tenant' | 'task';
  typeId?: string;
}
