import type { CallEnd } from '../../call/call-plan.js';
import type { AriChannel } from './ari-types.js';

/**
 * What a request on a channel came to: done, or the channel is no longer ours: it is gone (404, the
 * caller hung up) or has left Stasis (409, something else continued it).
 */
export type ChannelOutcome = 'done' | 'gone';

export type PlanVariables = ReadonlyArray<readonly [name: string, value: string]>;

/** A variable read: its value, unset, or the channel is gone. */
export type VariableRead =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'unset' }
  | { readonly kind: 'gone' };

/** Receives the events WebSocket's traffic. Called synchronously from the socket's message handler. */
export interface AriListener {
  /** A frame as parsed from JSON, not yet known to be an event: the listener checks it. */
  onEvent(frame: unknown): void;
  /** The events socket is open (the first time and after every reconnect). */
  onConnected(): void;
  /** The events socket closed unexpectedly; the connection reconnects by itself with backoff. */
  onDisconnected(reason: string): void;
}

/**
 * The few ARI operations callguard needs, so the client library behind them can be replaced
 * (ari-client or the small undici + ws client). Implementations reconnect the events socket with
 * backoff on their own and report 404 "Channel not found" as `gone`, never as an error.
 */
export interface AriConnection {
  readonly kind: 'undici' | 'ari-client';
  /** Connects and opens the events socket for the app; resolves once it is open. Rejects on bad credentials. */
  start(listener: AriListener): Promise<void>;
  getChannelVar(channelId: string, name: string): Promise<VariableRead>;
  /** Every channel Asterisk has now (to find calls a previous process left in Stasis). */
  listChannels(): Promise<AriChannel[]>;
  setChannelVar(channelId: string, name: string, value: string): Promise<ChannelOutcome>;
  continueInDialplan(channelId: string): Promise<ChannelOutcome>;
  /** Hangs up with a Q.850 cause (reason_code). */
  hangup(channelId: string, cause: number): Promise<ChannelOutcome>;
  /**
   * Carries out a call plan: sets the variables, then continues or hangs up. Asterisk sees the end
   * request only after the variables are set. Rejects on a non-404 failure (after the end was tried).
   */
  finishCall(channelId: string, variables: PlanVariables, end: CallEnd): Promise<ChannelOutcome>;
  /**
   * Stops reconnecting and closes the events socket calmly: keeps reading until no event arrived for
   * `quietMs` (at most `maxWaitMs`), then closes. Asterisk under load hung ARI when a socket with a
   * large event backlog was closed under it.
   */
  closeEvents(opts?: { quietMs?: number; maxWaitMs?: number }): Promise<void>;
  /** Releases the HTTP connections once the last call is finished. */
  dispose(): Promise<void>;
}

export interface AriConnectionOptions {
  /** ARI base URL without /ari, e.g. http://127.0.0.1:8088. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly app: string;
  readonly backoff?: BackoffOptions;
}

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
}

/** A non-404 failure of an ARI request: a bug or a misconfiguration, logged as an error. */
export class AriRequestError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
    readonly body: string,
  ) {
    super(`ARI ${operation} answered ${status}: ${body}`);
    this.name = 'AriRequestError';
  }
}

/** Credentials refused: retrying will not help, start-up stops with this. */
export class AriAuthError extends Error {
  constructor(url: string) {
    super(`ARI at ${url} refused the credentials (401): check ARI_USERNAME / ARI_PASSWORD and ari.conf`);
    this.name = 'AriAuthError';
  }
}

/**
 * Sets the variables in parallel and, once all are set, ends the call: two round trips. For
 * clients that cannot pin a call's requests to one connection.
 */
export async function finishAfterVariables(
  conn: AriConnection,
  channelId: string,
  variables: PlanVariables,
  end: CallEnd,
): Promise<ChannelOutcome> {
  let failure: unknown;
  if (variables.length > 0) {
    const results = await Promise.allSettled(variables.map(([n, v]) => conn.setChannelVar(channelId, n, v)));
    for (const r of results) {
      if (r.status === 'fulfilled' && r.value === 'gone') return 'gone';
      // still end the call: the dialplan treats a missing CALLGUARD_RESULT like the failure policy
      if (r.status === 'rejected') failure ??= r.reason;
    }
  }
  const outcome =
    end.kind === 'continue'
      ? await conn.continueInDialplan(channelId)
      : await conn.hangup(channelId, end.cause);
  if (failure !== undefined) throw failure;
  return outcome;
}
