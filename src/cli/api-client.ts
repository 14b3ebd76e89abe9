import { loadConfig } from '../config.js';
import { CallguardError, type ErrorCode, errorCatalogue } from '../domain/errors.js';
import { UsageError } from './output.js';

export interface ApiTarget {
  readonly url: string;
  readonly key: string;
}

/** --url/--key, else CALLGUARD_URL / CALLGUARD_API_KEY. */
export function apiTarget(options: { url?: string; key?: string }): ApiTarget {
  const config = loadConfig();
  const url = (options.url ?? config.CALLGUARD_URL).replace(/\/+$/, '');
  const key = options.key ?? config.CALLGUARD_API_KEY;
  if (!key)
    throw new UsageError('give --key or set CALLGUARD_API_KEY (create one with callguard key create)');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url: "${url}" is not an http:// or https:// URL`);
  return { url, key };
}

/** One API call; an error response becomes the CallguardError it describes. */
export async function callApi<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CallguardError(
      'CG_ERR_UNAVAILABLE',
      `cannot reach the callguard API at ${target.url} (${(error as Error).cause ?? (error as Error).message}); is callguard serve running? (--url or CALLGUARD_URL)`,
    );
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const e = parsed as { code?: string; message?: string; details?: unknown } | undefined;
    const code = (e?.code && e.code in errorCatalogue ? e.code : 'CG_ERR_INTERNAL') as ErrorCode;
    throw new CallguardError(code, e?.message ?? `HTTP ${response.status}`, e?.details);
  }
  return parsed as T;
}
