/**
 * The console speaks only the public /v1 API, with the key the user signed in with. The key lives in
 * sessionStorage (gone when the tab closes, never in a URL, a cookie or localStorage).
 */

const KEY_STORAGE = 'callguard.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** An error the API answered with: `{ code, message, details }` and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Listeners told when the API refuses the key (revoked, or the server restarted with other keys). */
const signedOut = new Set<() => void>();
export function onSignedOut(fn: () => void): () => void {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

function urlOf(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; details?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(
    res.status,
    body.code ?? `HTTP_${res.status}`,
    body.message ?? `${res.status} ${res.statusText}`,
    body.details,
  );
}

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly form?: FormData;
  /** Use this key instead of the stored one (signing in). */
  readonly key?: string;
}

async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const key = options.key ?? storedKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(urlOf(path, options.query), { method, headers, body, credentials: 'omit' });
  if (!res.ok) {
    const error = await errorOf(res);
    if (res.status === 401 && options.key === undefined) for (const fn of signedOut) fn();
    throw error;
  }
  return res;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, options);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, { query });

/**
 * Opens a Server-Sent Events stream with the key in the Authorization header (fetch, not EventSource,
 * which cannot send headers); the caller reads the body. A refused key signs the tab out.
 */
export async function openEventStream(
  path: string,
  query: Query,
  options: { lastEventId?: string; signal: AbortSignal },
): Promise<Response> {
  const key = storedKey();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(urlOf(path, query), {
    headers,
    signal: options.signal,
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) {
    const error = await errorOf(res);
    if (res.status === 401) for (const fn of signedOut) fn();
    throw error;
  }
  return res;
}

export interface Page<T> {
  items: T[];
  total?: number;
  next?: string;
}

/** Every item of a small catalogue (OUs, groups, types, servers), following the cursor (bounded). */
export async function getAll<T>(path: string, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await get<Page<T>>(path, { limit: 1000, cursor });
    out.push(...page.items);
    if (!page.next) break;
    cursor = page.next;
  }
  return out;
}

/** The file name a Content-Disposition header gives, if any. */
function fileNameOf(res: Response, fallback: string): string {
  const cd = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) return decodeURIComponent(star[1]!);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1]! : fallback;
}

/**
 * Downloads a file the API serves behind the key: fetched with the Authorization header (a plain link
 * cannot send it, and the key must not go into a URL), then saved through an object URL.
 */
export async function download(path: string, fallbackName: string): Promise<string> {
  const res = await send('GET', path);
  const blob = await res.blob();
  const name = fileNameOf(res, fallbackName);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** Field → message from an API validation error, so that a form can show each next to its input. */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) return out;
  const d = error.details as
    | { field?: string; issues?: Array<{ path: string; message: string }> }
    | undefined;
  if (d?.issues) {
    for (const i of d.issues) {
      const field = i.path.split('.').slice(1).join('.') || i.path;
      out[field] ??= i.message;
    }
  }
  if (d?.field) out[d.field] ??= error.message.replace(new RegExp(`^(body\\.)?${d.field}: `), '');
  if (Object.keys(out).length === 0) {
    // "body.fileName: ...; body.serverId: ..." — one message per field.
    for (const part of error.message.split(/; (?=(?:body\.)?[A-Za-z.]+: )/)) {
      const m = /^(?:body\.)?([A-Za-z.]+): (.*)$/s.exec(part);
      if (m) out[m[1]!] ??= m[2]!;
    }
  }
  return out;
}

/** The whole message, when none of the fields it names is one the form shows (else the fields say it). */
export function failureOutside(error: unknown, errors: Record<string, string>, shown: readonly string[]) {
  return Object.keys(errors).some((k) => shown.includes(k)) ? undefined : messageOf(error);
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
