import type { AriClient } from 'ari-client';
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

/**
 * ari-client is not a production dependency (its tree brings request, tough-cookie 2 and form-data 2
 * with known advisories): it is loaded only when ARI_CLIENT=ari-client is chosen, and must then be
 * installed beside callguard (docs/DECISIONS.md).
 */
export class AriClientMissingError extends Error {
  override name = 'AriClientMissingError';
}

async function loadAriClient(): Promise<typeof import('ari-client').default> {
  try {
    return (await import('ari-client')).default;
  } catch (error) {
    throw new AriClientMissingError(
      `ARI_CLIENT=ari-client needs the package ari-client, which is not installed (${(error as Error).message}); install it with "npm install --no-save ari-client@^2.2.0" or use ARI_CLIENT=undici`,
    );
  }
}

/**
 * ari-client 2.2.0 behind AriConnection. It downloads the API description at connect (12 GETs) and
 * reports errors as an Error whose message is the response body, without the status: a 404 is
 * recognised by Asterisk's body text.
 */
export class AriClientConnection implements AriConnection {
  readonly kind = 'ari-client' as const;
  private client: AriClient | undefined;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly absence: AbsentPeerLog;
  private lastMessageAt = 0;
  private closing = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AriConnectionOptions & { readonly logger: Logger }) {
    this.backoff = new Backoff(opts.backoff);
    this.log = opts.logger;
    this.absence = new AbsentPeerLog(this.log, `Asterisk ARI at ${opts.url}`);
  }

  async start(listener: AriListener): Promise<void> {
    this.closing = false;
    const ari = await loadAriClient();
    for (;;) {
      try {
        await this.checkCredentials();
        this.client = await ari.connect(this.opts.url, this.opts.username, this.opts.password);
        break;
      } catch (err) {
        if (err instanceof AriAuthError) throw err;
        const delay = this.backoff.next();
        this.absence.failed({ delayMs: delay, err: (err as Error).message });
        await new Promise((r) => setTimeout(r, delay));
        if (this.closing) return;
      }
    }
    const client = this.client;
    // Socket and request errors surface as the events below; an 'error' nobody listens to would end the process.
    client.on('error', (err: Error) => this.log.warn({ err: err?.message }, 'ARI client error'));
    client.on('*', (event: unknown) => {
      this.lastMessageAt = Date.now();
      listener.onEvent(event);
    });
    client.on('WebSocketConnected', () => {
      this.backoff.reset();
      this.absence.reachable();
      listener.onConnected();
    });
    client.on('WebSocketReconnecting', (err?: Error) => {
      listener.onDisconnected(err?.message ?? 'closed');
      this.absence.failed({ err: err?.message });
    });
    // ari-client gives up after 10 attempts (about a minute); start it again with our own backoff
    client.on('WebSocketMaxRetries', () => {
      const delay = this.backoff.next();
      this.log.warn({ delayMs: delay }, 'ari-client gave up reconnecting; starting it again');
      this.restartTimer = setTimeout(() => {
        if (!this.closing) client.start(this.opts.app).catch(() => {});
      }, delay);
    });
    await client.start(this.opts.app);
  }

  /**
   * swagger-client inside ari-client throws a 401 from a callback, outside any promise: an uncaught
   * exception that would end the process. Ask once ourselves first.
   */
  private async checkCredentials(): Promise<void> {
    const auth = Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64');
    const res = await fetch(new URL('/ari/api-docs/resources.json', this.opts.url), {
      headers: { authorization: `Basic ${auth}` },
    });
    await res.arrayBuffer();
    if (res.status === 401) throw new AriAuthError(this.opts.url);
  }

  private get api(): AriClient {
    if (!this.client) throw new Error('ARI connection not started');
    return this.client;
  }

  async getChannelVar(channelId: string, name: string): Promise<VariableRead> {
    try {
      const r = await this.api.channels.getChannelVar({ channelId, variable: name });
      return { kind: 'value', value: r.value };
    } catch (err) {
      const msg = messageOf(err);
      if (msg === 'Channel not found' || msg === 'Provided channel was not found') return { kind: 'gone' };
      if (msg === 'Provided variable was not found') return { kind: 'unset' };
      throw asRequestError(err, 'getChannelVar');
    }
  }

  async listChannels(): Promise<AriChannel[]> {
    return (await this.api.channels.list()) as AriChannel[];
  }

  setChannelVar(channelId: string, name: string, value: string): Promise<ChannelOutcome> {
    return settle(this.api.channels.setChannelVar({ channelId, variable: name, value }), 'setChannelVar');
  }

  continueInDialplan(channelId: string): Promise<ChannelOutcome> {
    return settle(this.api.channels.continueInDialplan({ channelId }), 'continue');
  }

  hangup(channelId: string, cause: number): Promise<ChannelOutcome> {
    return settle(this.api.channels.hangup({ channelId, reason_code: String(cause) }), 'hangup');
  }

  finishCall(channelId: string, variables: PlanVariables, end: CallEnd): Promise<ChannelOutcome> {
    return finishAfterVariables(this, channelId, variables, end);
  }

  async closeEvents(opts: { quietMs?: number; maxWaitMs?: number } = {}): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (!this.client) return;
    await waitUntilQuiet(() => this.lastMessageAt, opts.quietMs ?? 250, opts.maxWaitMs ?? 5_000);
    this.client.stop();
    this.client.removeAllListeners();
  }

  async dispose(): Promise<void> {
    // ari-client's HTTP (request) keeps no pool of its own that could be closed
  }
}

async function settle(p: Promise<unknown>, operation: string): Promise<ChannelOutcome> {
  try {
    await p;
    return 'done';
  } catch (err) {
    const msg = messageOf(err);
    if (msg === 'Channel not found' || msg === 'Channel not in Stasis application') return 'gone';
    throw asRequestError(err, operation);
  }
}

/** ari-client rejects with new Error(responseBody); Asterisk's bodies are {"message": "..."}. */
function messageOf(err: unknown): string | undefined {
  const text = (err as Error)?.message;
  if (typeof text !== 'string') return undefined;
  try {
    return (JSON.parse(text) as { message?: string }).message;
  } catch {
    return undefined;
  }
}

function asRequestError(err: unknown, operation: string): AriRequestError {
  const body = (err as Error)?.message ?? String(err);
  return new AriRequestError(0, operation, body);
}
