import { Client } from 'undici';
import WebSocket from 'ws';
import { Backoff } from '../../backoff.js';
import type { CallEnd } from '../../call/call-plan.js';
import type { Logger } from '../../log.js';
import { AbsentPeerLog } from '../absent-peer-log.js';
import {
  AriAuthError,
  type AriConnection,
  type AriConnectionOptions,
  type AriListener,
  AriRequestError,
  type ChannelOutcome,
  finishAfterVariables,
  type PlanVariables,
  type VariableRead,
} from './ari-connection.js';
import type { AriChannel } from './ari-types.js';
import { waitUntilQuiet } from './quiet-close.js';

const CHANNEL_NOT_FOUND = 'Channel not found';
const NOT_IN_STASIS = 'Channel not in Stasis application';
/** GET .../variable says "Provided channel was not found" (Asterisk source), the others "Channel not found". */
const CHANNEL_GONE = /channel (was )?not found/i;

export interface AriHttpClientOptions extends AriConnectionOptions {
  /** Keep-alive connections to Asterisk's HTTP server (default 4). */
  readonly connections?: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining; Asterisk answers them in order). Default 16. */
  readonly pipelining?: number;
  /**
   * true (default): a call's variable requests and its continue/hangup go back to back on one
   * connection; Asterisk's HTTP server handles a connection's requests one after the other, so the end
   * still comes after the variables, one round trip instead of two. false: wait for the variables.
   */
  readonly pipelineEnd?: boolean;
  readonly logger: Logger;
}

/**
 * A small typed ARI client on undici (keep-alive, pipelining) and ws. It knows only the handful of
 * endpoints callguard uses, so it needs no API description download at connect.
 */
export class AriHttpClient implements AriConnection {
  readonly kind = 'undici' as const;
  private readonly clients: Client[];
  private readonly inFlight: number[];
  private next = 0;
  private readonly pipelineEnd: boolean;
  private readonly auth: string;
  private readonly wsUrl: string;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private ws: WebSocket | undefined;
  private listener: AriListener | undefined;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastMessageAt = 0;
  private readonly absence: AbsentPeerLog;

  constructor(private readonly opts: AriHttpClientOptions) {
    const base = new URL(opts.url);
    const n = Math.max(1, opts.connections ?? 4);
    // below Asterisk's session_keep_alive (15 s) so we never reuse a connection it is closing
    const clientOpts = {
      pipelining: opts.pipelining ?? 16,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 10_000,
      // a call's requests take milliseconds; an Asterisk that does not answer in 5 s is stuck, and a
      // call must not hold a session (and the drain) for undici's default 5 minutes
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    };
    this.clients = Array.from({ length: n }, () => new Client(base.origin, clientOpts));
    this.inFlight = this.clients.map(() => 0);
    this.pipelineEnd = opts.pipelineEnd ?? true;
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    const wsBase = new URL('/ari/events', base);
    wsBase.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    wsBase.searchParams.set('app', opts.app);
    this.wsUrl = wsBase.toString();
    this.backoff = new Backoff(opts.backoff);
    this.log = opts.logger;
    this.absence = new AbsentPeerLog(this.log, `Asterisk ARI at ${base.origin}`);
  }

  start(listener: AriListener): Promise<void> {
    this.listener = listener;
    this.closing = false;
    return new Promise((resolve, reject) => this.open(resolve, reject));
  }

  /** Opens the events socket; settles the start() promise on the first open or on an auth failure. */
  private open(resolve?: () => void, reject?: (e: Error) => void): void {
    // credentials go in a header, not in api_key=, so they stay out of URLs and access logs
    const ws = new WebSocket(this.wsUrl, { headers: { authorization: this.auth }, perMessageDeflate: false });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.backoff.reset();
      this.absence.reachable();
      this.lastMessageAt = Date.now();
      this.listener?.onConnected();
      resolve?.();
    });
    ws.on('message', (data) => {
      this.lastMessageAt = Date.now();
      let event: unknown;
      try {
        event = JSON.parse(String(data));
      } catch {
        this.log.warn({ frame: String(data).slice(0, 200) }, 'ARI event is not JSON; ignored');
        return;
      }
      this.listener?.onEvent(event);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      if (res.statusCode === 401 && reject) {
        // at start-up: a configuration error, retrying will not help
        this.closing = true;
        ws.terminate();
        reject(new AriAuthError(this.opts.url));
        return;
      }
      if (res.statusCode === 401) {
        // credentials changed under a running node: say so loudly, keep trying (ari.conf may be fixed)
        this.log.error({ err: new AriAuthError(this.opts.url) }, 'ARI refused the credentials on reconnect');
      } else {
        this.log.warn({ status: res.statusCode }, 'ARI events socket upgrade refused');
      }
      // terminate() while connecting aborts the handshake and emits close, which schedules the retry
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.log.debug({ err: err.message }, 'ARI events socket error');
    });
    ws.on('close', (code, reason) => {
      if (this.ws === ws) this.ws = undefined;
      if (this.closing) return;
      const why = opened ? `closed ${code} ${String(reason)}`.trim() : 'could not connect';
      if (opened) this.listener?.onDisconnected(why);
      const delay = this.backoff.next();
      this.absence.failed({ delayMs: delay, why });
      this.reconnectTimer = setTimeout(
        () => this.open(opened ? undefined : resolve, opened ? undefined : reject),
        delay,
      );
      this.reconnectTimer.unref?.();
    });
  }

  /** The least busy connection (round robin among equals). */
  private pick(): number {
    let best = this.next;
    for (let k = 1; k < this.clients.length; k++) {
      const i = (this.next + k) % this.clients.length;
      if (this.inFlight[i] < this.inFlight[best]) best = i;
    }
    this.next = (best + 1) % this.clients.length;
    return best;
  }

  private async request(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    operation: string,
    conn = this.pick(),
  ) {
    this.inFlight[conn]++;
    try {
      return await this.send(this.clients[conn], method, path, operation);
    } finally {
      this.inFlight[conn]--;
    }
  }

  private async send(client: Client, method: 'GET' | 'POST' | 'DELETE', path: string, operation: string) {
    const res = await client.request({
      method,
      path,
      headers: { authorization: this.auth },
      // setting a variable, continue and hangup are safe to pipeline: they never take long in Asterisk
      idempotent: true,
      blocking: false,
    });
    let body = '';
    if (res.statusCode === 204) await res.body.dump();
    else body = await res.body.text();
    return { status: res.statusCode, body, operation };
  }

  private outcome(r: { status: number; body: string; operation: string }): ChannelOutcome {
    if (r.status === 204 || r.status === 200) return 'done';
    if (r.status === 404 && r.body.includes(CHANNEL_NOT_FOUND)) return 'gone';
    if (r.status === 409 && r.body.includes(NOT_IN_STASIS)) return 'gone';
    throw new AriRequestError(r.status, r.operation, r.body);
  }

  async getChannelVar(channelId: string, name: string): Promise<VariableRead> {
    const path = `/ari/channels/${encodeURIComponent(channelId)}/variable?variable=${encodeURIComponent(name)}`;
    const r = await this.request('GET', path, 'getChannelVar');
    if (r.status === 200) return { kind: 'value', value: (JSON.parse(r.body) as { value: string }).value };
    // "Provided variable was not found" = unset; the channel itself missing = gone
    if (r.status === 404) return CHANNEL_GONE.test(r.body) ? { kind: 'gone' } : { kind: 'unset' };
    throw new AriRequestError(r.status, r.operation, r.body);
  }

  async listChannels(): Promise<AriChannel[]> {
    const r = await this.request('GET', '/ari/channels', 'listChannels');
    if (r.status !== 200) throw new AriRequestError(r.status, r.operation, r.body);
    return JSON.parse(r.body) as AriChannel[];
  }

  async setChannelVar(channelId: string, name: string, value: string): Promise<ChannelOutcome> {
    const path = `/ari/channels/${encodeURIComponent(channelId)}/variable?variable=${encodeURIComponent(name)}&value=${encodeURIComponent(value)}`;
    return this.outcome(await this.request('POST', path, 'setChannelVar'));
  }

  async continueInDialplan(channelId: string): Promise<ChannelOutcome> {
    return this.outcome(
      await this.request('POST', `/ari/channels/${encodeURIComponent(channelId)}/continue`, 'continue'),
    );
  }

  async hangup(channelId: string, cause: number, conn?: number): Promise<ChannelOutcome> {
    const path = `/ari/channels/${encodeURIComponent(channelId)}?reason_code=${cause}`;
    return this.outcome(await this.request('DELETE', path, 'hangup', conn));
  }

  // hot path: one call's requests, back to back on one connection
  async finishCall(channelId: string, variables: PlanVariables, end: CallEnd): Promise<ChannelOutcome> {
    if (!this.pipelineEnd) return finishAfterVariables(this, channelId, variables, end);
    const conn = this.pick();
    const id = encodeURIComponent(channelId);
    const sets = variables.map(([n, v]) =>
      this.request(
        'POST',
        `/ari/channels/${id}/variable?variable=${encodeURIComponent(n)}&value=${encodeURIComponent(v)}`,
        'setChannelVar',
        conn,
      ),
    );
    const last =
      end.kind === 'continue'
        ? this.request('POST', `/ari/channels/${id}/continue`, 'continue', conn)
        : this.request('DELETE', `/ari/channels/${id}?reason_code=${end.cause}`, 'hangup', conn);
    const [endResult, ...setResults] = await Promise.allSettled([last, ...sets]);
    if (endResult.status === 'rejected') throw endResult.reason;
    const outcome = this.outcome(endResult.value);
    for (const r of setResults) {
      if (r.status === 'rejected') throw r.reason;
      if (this.outcome(r.value) === 'gone') return 'gone';
    }
    return outcome;
  }

  async closeEvents(opts: { quietMs?: number; maxWaitMs?: number } = {}): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      await waitUntilQuiet(() => this.lastMessageAt, opts.quietMs ?? 250, opts.maxWaitMs ?? 5_000);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2_000);
        ws.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        ws.close(1000, 'callguard shutting down');
      });
    } else {
      ws?.terminate();
    }
    this.ws = undefined;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
