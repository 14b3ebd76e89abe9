import { createConnection, createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { findRedisServer } from '../store/redis-process.js';
import {
  evictionAdvice,
  LAYOUT_FIX,
  persistenceAdvice,
  readServerSettings,
  type ServerAdvice,
  versionAdvice,
} from '../store/server-check.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a warn or fail. */
  readonly fix?: string;
}

const TIMEOUT_MS = 3000;

/** A server advice as a doctor line: ok with `okDetail` when there is none, a warning with its fix when there is. */
function adviceResult(check: string, advice: ServerAdvice | undefined, okDetail: string): CheckResult {
  return advice === undefined
    ? { check, status: 'ok', detail: okDetail }
    : { check, status: 'warn', detail: advice.message, fix: advice.fix };
}

/** Redis: reachable, and will it keep acknowledged writes across a restart? */
export async function checkRedis(config: Config): Promise<CheckResult[]> {
  const client = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const local = /^redis:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(config.REDIS_URL);
    const embedded = local && config.CALLGUARD_EMBEDDED_REDIS === 'auto' && findRedisServer() !== undefined;
    return [
      embedded
        ? {
            check: 'redis',
            status: 'warn',
            detail: `nothing answers at ${config.REDIS_URL}; callguard serve will start a private redis-server (AOF on) in ${config.CALLGUARD_DATA_DIR}`,
            fix: 'for production, run Redis (appendonly yes) or Redis Cluster and set REDIS_URL',
          }
        : {
            check: 'redis',
            status: 'fail',
            detail: `cannot reach ${config.REDIS_URL}: ${(error as Error).message}`,
            fix: 'start Redis or set REDIS_URL to a reachable redis:// or rediss:// URL (and REDIS_CLUSTER=true for a cluster)',
          },
    ];
  }
  const results: CheckResult[] = [
    { check: 'redis', status: 'ok', detail: `${config.REDIS_URL} answers PING` },
  ];
  const settings = await readServerSettings(client);
  results.push(
    adviceResult(
      'redis persistence',
      persistenceAdvice(settings),
      `AOF on (appendfsync ${settings.appendfsync})`,
    ),
  );
  const version = versionAdvice(settings);
  if (version !== undefined) results.push(adviceResult('redis version', version, ''));
  results.push(
    adviceResult(
      'redis eviction',
      evictionAdvice(settings),
      'maxmemory-policy noeviction: a full Redis refuses writes',
    ),
  );
  if (settings.smallLayout.length > 0) {
    results.push({
      check: 'redis encoding',
      status: 'warn',
      detail: `${settings.smallLayout.join(', ')}: rules take more memory than callguard sizes its storage for`,
      fix: LAYOUT_FIX,
    });
  }
  if (settings.mode === 'cluster' && !config.REDIS_CLUSTER) {
    results.push({
      check: 'redis cluster',
      status: 'fail',
      detail: 'the server is a Redis Cluster node but REDIS_CLUSTER is not set',
      fix: 'set REDIS_CLUSTER=true',
    });
  }
  client.disconnect();
  return results;
}

/** Asterisk ARI: reachable, credentials accepted (the API description is what ari clients fetch first). */
export async function checkAri(config: Config): Promise<CheckResult> {
  const url = new URL('/ari/api-docs/resources.json', config.ARI_URL);
  const auth = Buffer.from(`${config.ARI_USERNAME}:${config.ARI_PASSWORD}`).toString('base64');
  try {
    const res = await fetch(url, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.arrayBuffer();
    if (res.status === 200)
      return {
        check: 'asterisk ari',
        status: 'ok',
        detail: `${config.ARI_URL} accepts user ${config.ARI_USERNAME}`,
      };
    if (res.status === 401) {
      return {
        check: 'asterisk ari',
        status: 'fail',
        detail: `${config.ARI_URL} refused user ${config.ARI_USERNAME} (401)`,
        fix: 'set ARI_USERNAME / ARI_PASSWORD to a user of ari.conf (see dialplan/asterisk/ari.conf)',
      };
    }
    return {
      check: 'asterisk ari',
      status: 'fail',
      detail: `${url} answered ${res.status}`,
      fix: 'enable ARI: http.conf enabled=yes and ari.conf enabled=yes (see dialplan/asterisk/)',
    };
  } catch (error) {
    // An Asterisk that is not there (yet) is not a fault of callguard: the ari role waits for it and
    // retries quietly. Wrong credentials or ARI switched off are faults (fail above).
    return {
      check: 'asterisk ari',
      status: 'warn',
      detail: `nothing answers at ${config.ARI_URL} (${(error as Error).cause ?? (error as Error).message}); the ari role waits for Asterisk and retries`,
      fix: 'start Asterisk with http.conf/ari.conf from dialplan/asterisk, set ARI_URL, or leave ari out of --roles',
    };
  }
}

/** FreeSWITCH event socket (inbound mode): reachable, password accepted. */
export function checkEslInbound(config: Config): Promise<CheckResult> {
  const target = `${config.ESL_HOST}:${config.ESL_PORT}`;
  return new Promise((resolve) => {
    const socket = createConnection({ host: config.ESL_HOST, port: config.ESL_PORT });
    let buffer = '';
    let sentAuth = false;
    const finish = (result: CheckResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(TIMEOUT_MS, () =>
      finish({
        check: 'freeswitch esl',
        status: 'fail',
        detail: `${target} did not answer in time`,
        fix: 'check ESL_HOST / ESL_PORT and event_socket.conf.xml',
      }),
    );
    socket.on('error', (error) =>
      finish({
        check: 'freeswitch esl',
        status: 'fail',
        detail: `cannot reach ${target}: ${error.message}`,
        fix: 'load mod_event_socket with dialplan/freeswitch/event_socket.conf.xml, or set ESL_HOST / ESL_PORT',
      }),
    );
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (!sentAuth && buffer.includes('auth/request')) {
        sentAuth = true;
        buffer = '';
        socket.write(`auth ${config.ESL_PASSWORD}\n\n`);
        return;
      }
      if (sentAuth && buffer.includes('Reply-Text: +OK')) {
        socket.write('exit\n\n');
        finish({
          check: 'freeswitch esl',
          status: 'ok',
          detail: `${target} accepts the event socket password`,
        });
      } else if (sentAuth && buffer.includes('Reply-Text: -ERR')) {
        finish({
          check: 'freeswitch esl',
          status: 'fail',
          detail: `${target} refused the password`,
          fix: 'set ESL_PASSWORD to the password in event_socket.conf.xml',
        });
      }
    });
  });
}

/** Does a callguard answer `/healthz` at this URL? */
export async function callguardAnswers(healthUrl: string): Promise<boolean> {
  try {
    const res = await fetch(healthUrl, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await res.json().catch(() => undefined)) as { status?: string } | undefined;
    return res.ok && body?.status === 'ok';
  } catch {
    return false;
  }
}

/** Where a client on this host reaches a server listening on `host` (a wildcard address: loopback). */
export const reachableHost = (host: string): string =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

/**
 * A port callguard itself listens on: free, or taken. Taken by a running callguard (its `/healthz`,
 * at `healthUrl`, answers) is fine; taken by something else is a failure the server would hit.
 */
export function checkListenPort(
  check: string,
  host: string,
  port: number,
  variables: string,
  healthUrl?: string,
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', async (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && healthUrl && (await callguardAnswers(healthUrl))) {
        resolve({
          check,
          status: 'ok',
          detail: `${host}:${port} is served by a running callguard (${healthUrl} answers)`,
        });
        return;
      }
      resolve({
        check,
        status: 'fail',
        detail: `${host}:${port} is in use (${error.code}) and no callguard answers ${healthUrl ?? '/healthz'} there`,
        fix: `stop what holds it or set ${variables}`,
      });
    });
    server.listen(port, host, () =>
      server.close(() => resolve({ check, status: 'ok', detail: `${host}:${port} is free` })),
    );
  });
}
