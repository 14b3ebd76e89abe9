import { connect as netConnect } from 'node:net';
import { CallguardError, cgError } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import type { CallScreener } from '../call-screener.js';
import { callFromChannel } from './channel-call.js';
import { type EslEvent, encodeCommand, eventHeader } from './esl-codec.js';
import { EslConnection, type EslReply } from './esl-connection.js';
import {
  type InboundTarget,
  inboundPlanCommands,
  inboundReleaseCommand,
  isNoSuchChannel,
} from './esl-plan-commands.js';

export interface InboundClientOptions {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly screener: CallScreener;
  readonly logger: Logger;
  readonly defaultTenant: string;
  /** Dialplan context allowed (and announced) calls are transferred to. */
  readonly transferContext: string;
  /** Reconnect backoff: first delay and cap, in ms. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
  /** Give up on a connection attempt that gets no auth/request in this time. */
  readonly connectTimeoutMs?: number;
}

export type InboundState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'stopped';

/** What the client subscribes to (json: no URL decoding, and arrays such as DP_MATCH stay out of the way). */
const SUBSCRIBE = encodeCommand('event json CHANNEL_PARK CHANNEL_HANGUP_COMPLETE');
const EXIT = encodeCommand('exit');

/**
 * Inbound mode: one authenticated connection to FreeSWITCH's event socket. Every parked inbound
 * channel that carries callguard variables and no result yet is screened and then killed with the
 * mapped cause or transferred back to the dialplan. The connection comes back by itself (backoff,
 * then auth and subscription again); a wrong password is reported once per attempt and retried,
 * never thrown.
 */
export class EslInboundClient {
  private conn: EslConnection | null = null;
  private stateValue: InboundState = 'idle';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, { gone: boolean }>();
  private readyWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private firstAttempt: Promise<void>;
  private settleFirstAttempt: () => void = () => {};
  /** The last reason the connection could not be used (wrong password, refused, ...). */
  lastError: CallguardError | Error | undefined;

  constructor(private readonly opts: InboundClientOptions) {
    this.firstAttempt = new Promise((resolve) => {
      this.settleFirstAttempt = resolve;
    });
  }

  get state(): InboundState {
    return this.stateValue;
  }

  /** Starts connecting; resolves after the first attempt succeeded or failed (failures are retried). */
  start(): Promise<void> {
    if (this.stateValue === 'idle') this.connect();
    return this.firstAttempt;
  }

  /** Resolves when the client is authenticated and subscribed. */
  ready(): Promise<void> {
    if (this.stateValue === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Stops screening new parks, lets the calls being acted on finish (bounded), says exit. */
  async drain(timeoutMs = 5000): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    clearTimeout(this.retryTimer);
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const conn = this.conn;
    this.conn = null;
    if (conn && !conn.closed) {
      const closed = new Promise<void>((resolve) => conn.socket.once('close', () => resolve()));
      conn.send(EXIT).catch(() => {});
      const timer = setTimeout(() => conn.destroy(), 1000);
      await closed;
      clearTimeout(timer);
    }
    this.settleFirstAttempt();
  }

  private connect(): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'connecting';
    this.attempt++;
    this.lastError = undefined;
    const { host, port } = this.opts;
    const socket = netConnect({ host, port });
    let authed = false;
    // The whole handshake (auth/request, auth, subscription) is bounded: a peer that accepts the TCP
    // connection and then says nothing is not FreeSWITCH, or not a working one.
    const timeout = setTimeout(() => {
      this.lastError = cgError(
        'CG_ERR_ESL_CLOSED',
        `FreeSWITCH at ${host}:${port} did not complete the handshake`,
      );
      socket.destroy();
    }, this.opts.connectTimeoutMs ?? 5000);
    socket.setKeepAlive(true, 10_000);
    socket.on('error', (err) => {
      this.lastError = err;
    });
    const conn = new EslConnection(socket, {
      onAuthRequest: () => {
        conn
          .send(encodeCommand(`auth ${this.opts.password}`))
          .then((reply) => {
            if (!reply.ok) throw cgError('CG_ERR_ESL_AUTH_FAILED', authFailureMessage(host, port, reply));
            authed = true;
            return conn.send(SUBSCRIBE);
          })
          .then((reply) => {
            if (!reply.ok)
              throw cgError('CG_ERR_ESL_CLOSED', `FreeSWITCH refused the subscription: ${reply.text}`);
            clearTimeout(timeout);
            this.onReady(conn);
          })
          .catch((err: Error) => {
            this.lastError = err;
            if (err instanceof CallguardError && err.code === 'CG_ERR_ESL_AUTH_FAILED') {
              this.opts.logger.error({ code: err.code, host, port, attempt: this.attempt }, err.message);
            }
            conn.destroy();
          });
      },
      onRudeRejection: (text) => {
        const err = cgError(
          'CG_ERR_ESL_AUTH_FAILED',
          `FreeSWITCH at ${host}:${port} refused the connection (${text || 'rude rejection'}); allow this host in event_socket.conf.xml apply-inbound-acl, retrying`,
        );
        this.lastError = err;
        this.opts.logger.error({ code: err.code, host, port, attempt: this.attempt }, err.message);
      },
      onEvent: (event) => this.onEvent(conn, event),
      onClose: () => {
        clearTimeout(timeout);
        this.onConnectionClosed(conn, authed);
      },
    });
    this.conn = conn;
  }

  private onReady(conn: EslConnection): void {
    if (this.conn !== conn) return;
    this.stateValue = 'ready';
    this.attempt = 0;
    this.lastError = undefined;
    this.opts.logger.info(
      { host: this.opts.host, port: this.opts.port },
      'ESL inbound: connected and subscribed',
    );
    for (const w of this.readyWaiters.splice(0)) w();
    this.settleFirstAttempt();
  }

  private onConnectionClosed(conn: EslConnection, authed: boolean): void {
    if (this.conn !== conn && this.conn !== null) return;
    this.conn = null;
    for (const call of this.inFlight.values()) call.gone = true;
    if (this.stateValue === 'stopped') return;
    const wasReady = this.stateValue === 'ready';
    this.stateValue = 'waiting';
    const delay = this.backoff();
    const reason = this.lastError?.message ?? 'connection closed';
    if (wasReady) {
      this.opts.logger.warn({ retryInMs: delay }, 'ESL inbound: connection to FreeSWITCH lost; reconnecting');
    } else if (
      !(this.lastError instanceof CallguardError && this.lastError.code === 'CG_ERR_ESL_AUTH_FAILED')
    ) {
      this.opts.logger.warn(
        { retryInMs: delay, reason, authed },
        'ESL inbound: cannot connect to FreeSWITCH; retrying',
      );
    }
    this.settleFirstAttempt();
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private backoff(): number {
    const { first, max } = this.opts.backoffMs ?? { first: 200, max: 10_000 };
    return Math.min(max, first * 2 ** Math.max(0, this.attempt - 1));
  }

  private onEvent(conn: EslConnection, event: EslEvent): void {
    if (event.name === 'CHANNEL_PARK') this.onPark(conn, event);
    else if (event.name === 'CHANNEL_HANGUP_COMPLETE') {
      const call = this.inFlight.get(eventHeader(event, 'Unique-ID') ?? '');
      if (call) call.gone = true;
    }
  }

  private onPark(conn: EslConnection, event: EslEvent): void {
    // Only the leg running the dialplan: with loopback calls the a-leg parks too after a transfer
    // (fixtures README, point 11). A channel that already has a result was screened before.
    if (eventHeader(event, 'Call-Direction') !== 'inbound') return;
    const h = event.headers;
    if (h.variable_CALLGUARD_RESULT !== undefined) return;
    if (h.variable_CALLGUARD_TENANT === undefined && h.variable_CALLGUARD_DIRECTION === undefined) return;
    if (this.stateValue === 'stopped') return;
    const uuid = h['Unique-ID'];
    if (!uuid || this.inFlight.has(uuid)) return;
    const target: InboundTarget = {
      uuid,
      destination: h['Caller-Destination-Number'] ?? '',
      context: this.opts.transferContext,
    };
    const gate = callFromChannel(h, this.opts.defaultTenant);
    if (!gate.ok) {
      this.opts.logger.warn({ callId: uuid, reason: gate.reason }, 'channel turned away unscreened');
      conn.sendAndForget([inboundReleaseCommand(target)]);
      return;
    }
    const { call } = gate;
    const log = this.opts.logger.child({
      callId: uuid,
      from: call.calling,
      to: call.called,
      tenant: call.tenant,
    });
    let commands: string[];
    let summary: Record<string, unknown>;
    try {
      const { plan, decision } = this.opts.screener.screen(call);
      commands = inboundPlanCommands(plan, target);
      summary = {
        result: plan.result,
        end: plan.end.kind,
        rule: decision?.ruleId ?? undefined,
        event: plan.event?.type,
      };
    } catch (err) {
      log.error({ err }, 'screening failed; the dialplan failure policy takes the call');
      conn.sendAndForget([inboundReleaseCommand(target)]);
      return;
    }
    const state = { gone: false };
    this.inFlight.set(uuid, state);
    log.debug(summary, 'decided');
    conn.sendBatch(commands).then(
      (replies) => this.finish(uuid, log, replies, state.gone),
      () => {
        log.warn('ESL inbound: connection lost while acting on the call; the dialplan park timeout takes it');
        this.finish(uuid, log, [], true);
      },
    );
  }

  private finish(uuid: string, log: Logger, replies: EslReply[], gone: boolean): void {
    this.inFlight.delete(uuid);
    const last = replies[replies.length - 1];
    if (last && !last.ok) {
      if (isNoSuchChannel(last.text) || gone) log.info('channel already gone: the caller hung up');
      else log.warn({ reply: last.text }, 'FreeSWITCH refused the outcome');
    }
    if (this.inFlight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}

function authFailureMessage(host: string, port: number, reply: EslReply): string {
  return `FreeSWITCH at ${host}:${port} refused ESL_PASSWORD (${reply.text || 'no reply'}); check event_socket.conf.xml, retrying`;
}
