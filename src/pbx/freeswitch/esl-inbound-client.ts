import { connect as netConnect } from 'node:net';
import { z } from 'zod';
import { backoffMs } from '../../backoff.js';
import type { CallScreener } from '../../call/call-screener.js';
import { CallguardError, cgError } from '../../domain/errors.js';
import { isSafeDestination } from '../../domain/pbx-text.js';
import type { Logger } from '../../log.js';
import { type CallClaims, SINGLE_NODE_CLAIMS } from './call-claims.js';
import { callFromChannel } from './channel-call.js';
import {
  ESL_LIMITS,
  type EslEvent,
  type EslHeaders,
  type EslLimits,
  encodeCommand,
  eventHeader,
  parseJsonEvent,
} from './esl-codec.js';
import { EslConnection, type EslReply } from './esl-connection.js';
import {
  type InboundTarget,
  inboundHangupCommands,
  inboundPlanCommands,
  inboundReleaseCommands,
  isNoSuchChannel,
} from './esl-plan-commands.js';

export interface InboundClientOptions {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly screener: CallScreener;
  readonly logger: Logger;
  /** CALLGUARD_DEFAULT_TENANT; unset: a call without a tenant is turned away. */
  readonly defaultTenant?: string;
  /** Several nodes on one FreeSWITCH: who screens which parked call (default: this node screens all). */
  readonly claims?: CallClaims;
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
const LIST_CHANNELS = encodeCommand('api show channels as json');

/**
 * The answer to `show channels as json` grows with the switch: about 1-2 kB a channel, so the
 * outbound 4 MiB would refuse it from a few thousand channels on, and every reconnect would fail the
 * same way. 64 MiB is tens of thousands of channels; this peer is the FreeSWITCH we logged in to.
 */
const INBOUND_LIMITS: EslLimits = Object.freeze({ ...ESL_LIMITS, maxBodyBytes: 64 * 1024 * 1024 });

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
  private readonly claims: CallClaims;
  private readyWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private firstAttempt: Promise<void>;
  private settleFirstAttempt: () => void = () => {};
  /** The last reason the connection could not be used (wrong password, refused, ...). */
  lastError: CallguardError | Error | undefined;

  constructor(private readonly opts: InboundClientOptions) {
    this.claims = opts.claims ?? SINGLE_NODE_CLAIMS;
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
    const conn = new EslConnection(
      socket,
      {
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
      },
      INBOUND_LIMITS,
    );
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
    void this.adoptParked(conn);
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
      this.opts.logger.warn(
        { retryInMs: delay, reason },
        'ESL inbound: connection to FreeSWITCH lost; reconnecting',
      );
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
    return backoffMs(this.attempt, { firstMs: first, maxMs: max });
  }

  private onEvent(conn: EslConnection, event: EslEvent): void {
    if (event.name === 'CHANNEL_PARK') void this.onPark(conn, event.headers, 'park');
    else if (event.name === 'CHANNEL_HANGUP_COMPLETE') {
      const call = this.inFlight.get(eventHeader(event, 'Unique-ID') ?? '');
      if (call) call.gone = true;
    }
  }

  /**
   * After every (re)connect: calls parked while no node listened got no CHANNEL_PARK we could see.
   * `show channels as json` lists them; `uuid_dump <uuid> json` gives each one's variables, and
   * they are screened as if their CHANNEL_PARK had just arrived (claims keep it to one node).
   */
  private async adoptParked(conn: EslConnection): Promise<void> {
    let listing: EslReply;
    try {
      listing = await conn.send(LIST_CHANNELS);
    } catch {
      return; // the connection went; the next one adopts
    }
    const uuids = parkedChannelUuids(listing.text);
    if (uuids === undefined) {
      this.opts.logger.warn(
        { reply: listing.text.slice(0, 200) },
        'ESL inbound: could not list channels to adopt',
      );
      return;
    }
    for (const uuid of uuids) {
      if (this.conn !== conn || this.stateValue === 'stopped') return;
      if (this.inFlight.has(uuid)) continue;
      let dump: EslReply;
      try {
        dump = await conn.send(encodeCommand(`api uuid_dump ${uuid} json`));
      } catch {
        return;
      }
      if (!dump.ok) continue; // gone meanwhile
      const headers = parseJsonEvent(dump.text).headers;
      if (headers['Unique-ID'] !== uuid) continue;
      await this.onPark(conn, headers, 'adopted');
    }
  }

  private async onPark(conn: EslConnection, h: EslHeaders, how: 'park' | 'adopted'): Promise<void> {
    // Only the leg running the dialplan: with loopback calls the a-leg parks too after a transfer
    // (fixtures README, point 11). A channel that already has a result was screened before.
    if (h['Call-Direction'] !== 'inbound') return;
    if (h.variable_CALLGUARD_RESULT !== undefined) return;
    if (h.variable_CALLGUARD_TENANT === undefined && h.variable_CALLGUARD_DIRECTION === undefined) return;
    if (this.stateValue === 'stopped') return;
    const uuid = h['Unique-ID'];
    // The uuid goes on command lines: only what FreeSWITCH uuids are made of.
    if (!uuid || !CHANNEL_UUID.test(uuid) || this.inFlight.has(uuid)) return;
    const state = { gone: false };
    this.inFlight.set(uuid, state);
    let mine: boolean;
    try {
      mine = await this.claims.claim(uuid);
    } catch {
      mine = true;
    }
    if (!mine) {
      this.opts.logger.debug({ callId: uuid }, 'ESL inbound: another node screens this call');
      this.finish(uuid, this.opts.logger, []);
      return;
    }
    if (how === 'adopted')
      this.opts.logger.info({ callId: uuid }, 'ESL inbound: adopting a call parked while not connected');
    const destination = h['Caller-Destination-Number'] ?? '';
    const target: InboundTarget = { uuid, destination, context: this.opts.transferContext };
    const gate = callFromChannel(h, this.opts.defaultTenant);
    let commands: string[];
    let log = this.opts.logger.child({ callId: uuid });
    if (!isSafeDestination(destination)) {
      // uuid_transfer would put the caller's text on a command line; such a call cannot go back.
      log.warn({ destination: destination.slice(0, 64) }, 'destination is not a dialable number; hanging up');
      commands = inboundHangupCommands(target, INVALID_NUMBER_FORMAT);
    } else if (!gate.ok) {
      log.warn({ reason: gate.reason }, 'call turned away unscreened: the dialplan failure policy takes it');
      commands = inboundReleaseCommands(target);
    } else {
      const { call } = gate;
      log = log.child({ from: call.calling, to: call.called, tenant: call.tenant });
      try {
        const { plan, decision } = this.opts.screener.screen(call);
        commands = inboundPlanCommands(plan, target);
        log.debug(
          {
            result: plan.result,
            end: plan.end.kind,
            rule: decision?.ruleId ?? undefined,
            event: plan.event?.type,
          },
          'decided',
        );
      } catch (err) {
        log.error({ err }, 'screening failed; the dialplan failure policy takes the call');
        commands = inboundReleaseCommands(target);
      }
    }
    if (this.conn !== conn || conn.closed) {
      log.warn('ESL inbound: connection lost before acting on the call; it is adopted after the reconnect');
      this.finish(uuid, log, []);
      return;
    }
    conn.sendBatch(commands).then(
      (replies) => this.finish(uuid, log, replies),
      () => {
        log.warn('ESL inbound: connection lost while acting on the call; it is adopted after the reconnect');
        this.finish(uuid, log, []);
      },
    );
  }

  private finish(uuid: string, log: Logger, replies: EslReply[]): void {
    const gone = this.inFlight.get(uuid)?.gone ?? false;
    this.inFlight.delete(uuid);
    const last = replies[replies.length - 1];
    if (last && !last.ok) {
      if (isNoSuchChannel(last.text) || gone) log.info('channel already gone: the caller hung up');
      else log.warn({ reply: last.text }, 'FreeSWITCH refused the outcome');
    }
    if (this.inFlight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** FreeSWITCH channel uuids (and origination_uuid values people pick): letters, digits, dashes. */
const CHANNEL_UUID = /^[A-Za-z0-9-]{1,64}$/;

/** Q.850 28: the destination cannot be routed as given. */
const INVALID_NUMBER_FORMAT = 28;

/**
 * The uuids of parked dialplan legs in a `show channels as json` answer (`{"row_count":N,"rows":[...]}`,
 * or `{"row_count": 0}`); undefined when the answer is not that.
 */
export function parkedChannelUuids(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = channelListSchema.safeParse(parsed);
  if (!result.success) return undefined;
  return (result.data.rows ?? [])
    .filter((r) => r.application === 'park' && r.direction === 'inbound' && CHANNEL_UUID.test(r.uuid))
    .map((r) => r.uuid);
}

const channelListSchema = z.object({
  row_count: z.number(),
  rows: z
    .array(
      z
        .object({ uuid: z.string(), direction: z.string().optional(), application: z.string().optional() })
        .loose(),
    )
    .optional(),
});

function authFailureMessage(host: string, port: number, reply: EslReply): string {
  return `FreeSWITCH at ${host}:${port} refused ESL_PASSWORD (${reply.text || 'no reply'}); check event_socket.conf.xml, retrying`;
}
