import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * A protocol-level double of Asterisk 22.10.1's ARI, built from the traffic recorded in
 * test/fixtures/asterisk-ari: the same api-docs bodies (basePath rewritten to this server), the same
 * auth answers, status codes and bodies for the channel operations callguard uses, and WebSocket
 * events shaped like the recorded ones. It records what the app did to every call, and when.
 */

const FIXTURES = new URL('../../fixtures/asterisk-ari/', import.meta.url);
const API_DOCS = [
  'resources',
  'asterisk',
  'endpoints',
  'channels',
  'bridges',
  'recordings',
  'sounds',
  'playbacks',
  'deviceStates',
  'mailboxes',
  'events',
  'applications',
];
const RECORDED_BASE_PATH = '"basePath":"http://127.0.0.1:8088/ari"';
const ASTERISK_ID = '02:fc:00:00:00:01';

/** Hangup reasons ARI accepts in `reason=` and the Q.850 cause each gives (resource_channels.c). */
const HANGUP_REASONS: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

export interface DoubleCallSpec {
  readonly called: string;
  /** Caller id number; undefined or '' = none. */
  readonly calling?: string;
  readonly callerName?: string;
  /** Stasis arguments after the app name: `Stasis(callguard,outbound,campaign-7)` → ['outbound', 'campaign-7']. */
  readonly args: readonly string[];
  /** Channel variables set by the dialplan before Stasis() (CALLGUARD_TENANT, ...). */
  readonly variables?: Readonly<Record<string, string>>;
  readonly context?: string;
  /** The caller hangs up this many ms after StasisStart was sent (0: right after, before the app can answer). */
  readonly hangupAfterMs?: number;
}

export interface AppRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** performance.now() when the request arrived. */
  readonly at: number;
}

export type DoubleCallEnd = 'continue' | 'hangup' | 'caller-hangup';

export interface DoubleCall {
  readonly id: string;
  readonly spec: DoubleCallSpec;
  /** performance.now() right before StasisStart was written to the app's socket. */
  readonly stasisStartAt: number;
  /** performance.now() when the request that ended the app's handling arrived (continue or DELETE). */
  endedAt?: number;
  end?: DoubleCallEnd;
  /** Q.850 cause of the app's hangup. */
  cause?: number;
  /** Variables the app set, in the order the requests arrived. */
  readonly setVariables: Array<[string, string]>;
  readonly requests: AppRequest[];
  /** Settles when the channel left Stasis. */
  readonly done: Promise<DoubleCall>;
}

export interface AriDoubleOptions {
  readonly username?: string;
  readonly password?: string;
  /** ari.conf `channelvars`: these variables appear in every channel snapshot ("" when unset). */
  readonly channelvars?: readonly string[];
  /** Delay before answering each channel request (to keep calls in Stasis for drain tests). */
  readonly responseDelayMs?: number;
}

interface Channel {
  readonly id: string;
  readonly name: string;
  state: string;
  readonly caller: { name: string; number: string };
  readonly dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  readonly creationtime: string;
  readonly vars: Map<string, string>;
  inStasis: boolean;
  call?: DoubleCall;
  settle?: () => void;
}

/** Asterisk's timestamp format: 2026-11-22T03:10:56.281+0000 (no colon in the offset). */
function asteriskTime(ms = Date.now()): string {
  return `${new Date(ms).toISOString().slice(0, 23)}+0000`;
}

function json(res: ServerResponse, status: number, reason: string, body: string): void {
  res.writeHead(status, reason, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function error(res: ServerResponse, status: number, reason: string, message: string): void {
  json(res, status, reason, JSON.stringify({ message }));
}

function noContent(res: ServerResponse): void {
  res.writeHead(204, 'No Content');
  res.end();
}

export class AriDouble {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly docs = new Map<string, string>();
  private readonly channels = new Map<string, Channel>();
  /** Every call by channel id, also after the channel is gone (to record the app's late requests). */
  private readonly callsById = new Map<string, DoubleCall>();
  private readonly sockets = new Set<Socket>();
  private appSocket: WebSocket | undefined;
  private seq = 0;
  private readonly epoch = Math.floor(Date.now() / 1000);
  private readonly user: string;
  /** ari.conf's password; change it to refuse the app's next connection attempts. */
  pass: string;
  private readonly channelvars: readonly string[] | undefined;
  private readonly delayMs: number;
  private port = 0;
  readonly calls: DoubleCall[] = [];
  /** Close codes of the app's event sockets, in order (1000 = the app closed calmly). */
  readonly closeCodes: number[] = [];
  /** Every app connection attempt on the events socket, with the status it got. */
  readonly upgrades: Array<{ at: number; status: number }> = [];
  /** Paths of api-docs requests, in order (what ari-client downloads at connect). */
  readonly docRequests: string[] = [];
  private waiters: Array<() => void> = [];
  /** Fault injection (not recorded traffic): GET .../variable answers 500. */
  failVariableReads = false;
  /** Fault injection (not recorded traffic): the next n continue or hangup requests answer 500. */
  failNextEnds = 0;
  /** The next n events-socket connection attempts are cut off (Asterisk down or restarting). */
  refuseNextUpgrades = 0;

  constructor(opts: AriDoubleOptions = {}) {
    this.user = opts.username ?? 'test';
    this.pass = opts.password ?? 'test';
    this.channelvars = opts.channelvars;
    this.delayMs = opts.responseDelayMs ?? 0;
    for (const name of API_DOCS) {
      this.docs.set(name, readFileSync(new URL(`api-docs/${name}.json`, FIXTURES), 'utf8'));
    }
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get appConnected(): boolean {
    return this.appSocket?.readyState === WebSocket.OPEN;
  }

  /** Resolves once the app has an events socket open (bounded). */
  async waitForApp(timeoutMs = 5_000): Promise<void> {
    if (this.appConnected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app did not connect in time')), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Channels currently held by the Stasis app. */
  inStasis(): number {
    let n = 0;
    for (const ch of this.channels.values()) if (ch.inStasis) n++;
    return n;
  }

  /**
   * A call reaches `Stasis(callguard,...)`. Returns undefined when no app is connected: Stasis()
   * fails at once and the dialplan goes on with STASISSTATUS=FAILED.
   */
  placeCall(spec: DoubleCallSpec): DoubleCall | undefined {
    const ws = this.appSocket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return undefined;
    const n = this.seq;
    this.seq += 2;
    const context = spec.context ?? (spec.args[0] === 'outbound' ? 'from-internal' : 'from-pbx');
    const created = asteriskTime();
    const caller = { name: spec.callerName ?? '', number: spec.calling ?? '' };
    // the ;1 half: the caller side of the Local channel, never in Stasis
    const leg1: Channel = {
      id: `${this.epoch}.${n}`,
      name: `Local/${spec.called}@${context}-${n.toString(16).padStart(8, '0')};1`,
      state: 'Down',
      caller,
      dialplan: {
        context,
        exten: spec.called,
        priority: 1,
        app_name: 'AppDial2',
        app_data: '(Outgoing Line)',
      },
      creationtime: created,
      vars: new Map(),
      inStasis: false,
    };
    const ch: Channel = {
      id: `${this.epoch}.${n + 1}`,
      name: `Local/${spec.called}@${context}-${n.toString(16).padStart(8, '0')};2`,
      state: 'Ring',
      caller,
      dialplan: {
        context,
        exten: spec.called,
        priority: 2,
        app_name: 'Stasis',
        app_data: ['callguard', ...spec.args].join(','),
      },
      creationtime: created,
      vars: new Map(Object.entries(spec.variables ?? {})),
      inStasis: true,
    };
    this.channels.set(leg1.id, leg1);
    this.channels.set(ch.id, ch);
    let settle!: () => void;
    const done = new Promise<void>((r) => {
      settle = r;
    });
    const call: DoubleCall = {
      id: ch.id,
      spec,
      stasisStartAt: performance.now(),
      setVariables: [],
      requests: [],
      done: done.then(() => call),
    };
    ch.call = call;
    ch.settle = settle;
    this.callsById.set(ch.id, call);
    this.calls.push(call);
    const frame = `{"type":"StasisStart","timestamp":"${asteriskTime()}","args":${JSON.stringify(spec.args)},"channel":${this.snapshot(ch)},"asterisk_id":"${ASTERISK_ID}","application":"callguard"}`;
    (call as { stasisStartAt: number }).stasisStartAt = performance.now();
    this.send(frame);
    if (spec.hangupAfterMs !== undefined) {
      if (spec.hangupAfterMs <= 0) queueMicrotask(() => this.callerHangsUp(ch));
      else setTimeout(() => this.callerHangsUp(ch), spec.hangupAfterMs).unref();
    }
    return call;
  }

  /** A raw events socket standing in for an app process that is about to die with calls in Stasis. */
  async connectRawApp(): Promise<WebSocket> {
    const ws = new WebSocket(
      `ws://127.0.0.1:${this.port}/ari/events?app=callguard&api_key=${this.user}:${this.pass}`,
    );
    await new Promise((r) => ws.once('open', r));
    return ws;
  }

  /** Asterisk drops the app's events socket (as on an Asterisk restart or a network cut). */
  dropConnection(): void {
    this.appSocket?.terminate();
    this.appSocket = undefined;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const ch of this.channels.values()) ch.settle?.();
  }

  private callerHangsUp(ch: Channel): void {
    if (!this.channels.has(ch.id)) return;
    if (ch.call && !ch.call.end) ch.call.end = 'caller-hangup';
    this.channels.delete(ch.id);
    // no `soft`: the far end hung up, and cause is a real Q.850 cause
    this.send(`{"cause":16,"type":"ChannelHangupRequest",${this.tail(ch)}`);
    this.leaveStasis(ch);
  }

  private leaveStasis(ch: Channel): void {
    if (!ch.inStasis) return;
    ch.inStasis = false;
    this.send(`{"type":"StasisEnd",${this.tail(ch)}`);
    ch.settle?.();
  }

  /** `"timestamp":...,"channel":{...},"asterisk_id":...,"application":...}`: the common end of channel events. */
  private tail(ch: Channel): string {
    return `"timestamp":"${asteriskTime()}","channel":${this.snapshot(ch)},"asterisk_id":"${ASTERISK_ID}","application":"callguard"}`;
  }

  private snapshot(ch: Channel): string {
    const caller = JSON.stringify(ch.caller);
    let s = `{"id":"${ch.id}","name":${JSON.stringify(ch.name)},"state":"${ch.state}","protocol_id":"","caller":${caller},"connected":${caller},"accountcode":"","dialplan":${JSON.stringify(ch.dialplan)},"creationtime":"${ch.creationtime}","language":"en"`;
    if (this.channelvars) {
      const vars: Record<string, string> = {};
      for (const name of this.channelvars) vars[name] = this.readVar(ch, name) ?? '';
      s += `,"channelvars":${JSON.stringify(vars)}`;
    }
    return `${s}}`;
  }

  private readVar(ch: Channel, name: string): string | undefined {
    if (name === 'CALLERID(num)') return ch.caller.number;
    if (name === 'CALLERID(name)') return ch.caller.name;
    return ch.vars.get(name);
  }

  /** Sends one text frame on the app's events socket as it is (a peer's malformed event). */
  sendRawFrame(frame: string): void {
    this.send(frame);
  }

  private send(frame: string): void {
    const ws = this.appSocket;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(frame);
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const apiKey = url.searchParams.get('api_key');
    if (apiKey !== null) return apiKey === `${this.user}:${this.pass}`;
    const header = req.headers.authorization;
    if (!header?.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString() === `${this.user}:${this.pass}`;
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const at = performance.now();
    if (url.pathname !== '/ari/events') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.refuseNextUpgrades > 0) {
      this.refuseNextUpgrades--;
      this.upgrades.push({ at, status: 0 });
      socket.destroy();
      return;
    }
    if (!this.authorized(req, url)) {
      this.upgrades.push({ at, status: 401 });
      const body = '{"message":"Authentication required"}';
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Asterisk REST Interface"\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    if (!url.searchParams.get('app')?.split(',').includes('callguard')) {
      this.upgrades.push({ at, status: 400 });
      const body = '{"message":"Invalid application provided in param [app]."}';
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    this.upgrades.push({ at, status: 101 });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // one session per application: a new connection replaces the old one, as in Asterisk
      this.appSocket?.terminate();
      this.appSocket = ws;
      ws.on('close', (code) => {
        this.closeCodes.push(code);
        if (this.appSocket === ws) this.appSocket = undefined;
      });
      ws.on('error', () => {});
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    if (!this.authorized(req, url)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Asterisk REST Interface"');
      error(res, 401, 'Unauthorized', 'Authentication required');
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'ari') {
      error(res, 404, 'Not Found', 'Resource not found');
      return;
    }
    if (parts[1] === 'api-docs' && req.method === 'GET' && parts.length === 3) {
      this.apiDocs(req, res, parts[2]);
      return;
    }
    if (parts[1] === 'channels' && parts.length === 2 && req.method === 'GET') {
      const body = `[${[...this.channels.values()].map((ch) => this.snapshot(ch)).join(',')}]`;
      json(res, 200, 'OK', body);
      return;
    }
    if (parts[1] === 'channels' && parts.length >= 3) {
      const id = decodeURIComponent(parts[2]);
      const action = parts[3];
      const run = () => this.channelRequest(req.method ?? 'GET', id, action, url, res, at);
      if (this.delayMs > 0) setTimeout(run, this.delayMs);
      else run();
      return;
    }
    error(res, 404, 'Not Found', 'Resource not found');
  }

  private apiDocs(req: IncomingMessage, res: ServerResponse, file: string): void {
    const name = file.replace(/\.json$/, '');
    const body = this.docs.get(name);
    if (!body) {
      error(res, 404, 'Not Found', 'Resource not found');
      return;
    }
    this.docRequests.push(file);
    // Asterisk builds basePath from the Host header
    const rewritten = body.replace(RECORDED_BASE_PATH, `"basePath":"http://${req.headers.host}/ari"`);
    res.writeHead(200, 'OK', {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, no-store',
      'Content-Length': Buffer.byteLength(rewritten),
    });
    res.end(rewritten);
  }

  private record(id: string, method: string, url: URL, status: number, at: number): void {
    this.callsById.get(id)?.requests.push({ method, path: url.pathname + url.search, status, at });
  }

  private channelRequest(
    method: string,
    id: string,
    action: string | undefined,
    url: URL,
    res: ServerResponse,
    at: number,
  ) {
    const ch = this.channels.get(id);
    const q = url.searchParams;
    const reply = (status: number, reason: string, message?: string, body?: string) => {
      this.record(id, method, url, status, at);
      if (status === 204) noContent(res);
      else if (body !== undefined) json(res, status, reason, body);
      else error(res, status, reason, message ?? '');
    };
    const notFound = () => reply(404, 'Not Found', 'Channel not found');
    const notInStasis = () => reply(409, 'Conflict', 'Channel not in Stasis application');
    const ending =
      (action === undefined && method === 'DELETE') || (action === 'continue' && method === 'POST');
    if (ending && this.failNextEnds > 0) {
      this.failNextEnds--;
      return reply(500, 'Internal Server Error', 'Internal Server Error');
    }

    if (action === undefined && method === 'GET') {
      if (!ch) return notFound();
      return reply(200, 'OK', undefined, this.snapshot(ch));
    }
    if (action === undefined && method === 'DELETE') {
      if (!ch) return notFound();
      const reason = q.get('reason');
      const code = q.get('reason_code');
      let cause = 16;
      if (reason && code)
        return reply(400, 'Bad Request', "The reason and reason_code can't both be specified");
      if (code) {
        const m = /^\s*[+-]?\d+/.exec(code);
        if (!m) return reply(400, 'Invalid Reason Code', 'Invalid reason for hangup reason code provided');
        cause = Number.parseInt(m[0], 10);
      } else if (reason) {
        if (HANGUP_REASONS[reason] === undefined) {
          return reply(400, 'Invalid Reason', 'Invalid reason for hangup reason provided');
        }
        cause = HANGUP_REASONS[reason];
      }
      if (ch.call && !ch.call.end) {
        ch.call.end = 'hangup';
        ch.call.cause = cause;
        ch.call.endedAt = at;
      }
      this.channels.delete(id);
      reply(204, 'No Content');
      // cause 32 with soft: Asterisk's AST_SOFTHANGUP_EXPLICIT flag, whatever reason_code was sent
      this.send(`{"cause":32,"soft":true,"type":"ChannelHangupRequest",${this.tail(ch)}`);
      this.leaveStasis(ch);
      return;
    }
    if (action === 'variable' && method === 'GET') {
      if (this.failVariableReads) return reply(500, 'Internal Server Error', 'Internal Server Error');
      const name = q.get('variable');
      if (!name) return reply(400, 'Bad Request', 'Variable name is required');
      if (!ch) return reply(404, 'Channel Not Found', 'Provided channel was not found');
      const value = this.readVar(ch, name);
      if (value === undefined) return reply(404, 'Variable Not Found', 'Provided variable was not found');
      return reply(200, 'OK', undefined, JSON.stringify({ value }));
    }
    if (action === 'variable' && method === 'POST') {
      const name = q.get('variable');
      if (!name) return reply(400, 'Bad Request', 'Variable name is required');
      if (!ch) return notFound();
      if (!ch.inStasis) return notInStasis();
      const value = q.get('value') ?? '';
      ch.vars.set(name, value);
      ch.call?.setVariables.push([name, value]);
      reply(204, 'No Content');
      this.send(
        `{"variable":${JSON.stringify(name)},"value":${JSON.stringify(value)},"type":"ChannelVarset",${this.tail(ch)}`,
      );
      return;
    }
    if (action === 'continue' && method === 'POST') {
      if (!ch) return notFound();
      if (!ch.inStasis) return notInStasis();
      if (ch.call && !ch.call.end) {
        ch.call.end = 'continue';
        ch.call.endedAt = at;
      }
      reply(204, 'No Content');
      this.leaveStasis(ch);
      return;
    }
    if (action === 'answer' && method === 'POST') {
      if (!ch) return notFound();
      if (!ch.inStasis) return notInStasis();
      reply(204, 'No Content');
      ch.state = 'Up';
      this.send(`{"type":"ChannelStateChange",${this.tail(ch)}`);
      return;
    }
    reply(405, 'Method Not Allowed', 'Method not allowed');
  }
}
