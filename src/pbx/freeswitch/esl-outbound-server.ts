import { createServer, type Server, type Socket } from 'node:net';
import { Counter } from 'prom-client';
import type { CallPlan } from '../../call/call-plan.js';
import type { CallScreener } from '../../call/call-screener.js';
import type { Logger } from '../../log.js';
import { metricsRegistry } from '../../metrics.js';
import { callFromChannel } from './channel-call.js';
import { type EslHeaders, encodeCommand } from './esl-codec.js';
import { EslConnection } from './esl-connection.js';
import { outboundPlanCommands } from './esl-plan-commands.js';
import { PeerAllowlist } from './peer-allowlist.js';

/** Peers the outbound listener closed at once because ESL_ALLOW_FROM does not list them. */
export const eslPeersRefusedTotal = new Counter({
  name: 'callguard_esl_peers_refused_total',
  help: 'Connections to the ESL outbound listener from peers outside ESL_ALLOW_FROM, closed at once.',
  registers: [metricsRegistry],
});

export interface OutboundServerOptions {
  readonly host: string;
  readonly port: number;
  readonly screener: CallScreener;
  readonly logger: Logger;
  /** CALLGUARD_DEFAULT_TENANT; unset: a call without a tenant is turned away. */
  readonly defaultTenant?: string;
  /** ESL_ALLOW_FROM: CIDRs of the peers that may connect (default 127.0.0.1/32 and ::1/128). */
  readonly allowFrom?: string;
  /** How long a session waits for the channel data after `connect` before cutting the socket. */
  readonly connectTimeoutMs?: number;
  /** How long a session waits for FreeSWITCH to close the socket after `exit` before cutting it. */
  readonly settleTimeoutMs?: number;
  /** How long drain() waits for live calls before cutting them. */
  readonly drainTimeoutMs?: number;
}

const CONNECT = encodeCommand('connect');

/**
 * FreeSWITCH answers `connect` with the channel data within milliseconds (it has it in memory); a
 * peer silent for this long after connecting (or a half-open connection) is not a call in progress,
 * and would otherwise hold a session and a file descriptor for good. A cut socket hands the channel
 * back to the dialplan, whose failure policy takes it.
 */
const CONNECT_TIMEOUT_MS = 5000;

/** A channel the gate turns away: back to the dialplan with no CALLGUARD_RESULT (its failure policy acts). */
const RELEASE: CallPlan = Object.freeze({
  result: 'allow',
  variables: [],
  end: Object.freeze({ kind: 'continue' }),
});

/** `cut`: the session gave up on the peer (silent, or past the size limits) and has said why. */
type Phase = 'connecting' | 'exiting' | 'cut' | 'done';

/**
 * One call handed over by FreeSWITCH's `socket` application. `connect` returns the channel data;
 * the decision is made at once and the whole outcome goes out in one write (sets, hangup or resume,
 * exit: see outboundPlanCommands), so FreeSWITCH carries it out in the channel's next tick. No events
 * are subscribed to: nothing is waited for but the replies and FreeSWITCH closing the socket.
 */
class OutboundSession {
  private phase: Phase = 'connecting';
  private log: Logger;
  private readonly conn: EslConnection;
  /** Read once: a destroyed socket no longer knows its peer. */
  private readonly peer: string | undefined;
  /** Bounds what the session waits for: the channel data, then FreeSWITCH closing after `exit`. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    private readonly opts: OutboundServerOptions,
    private readonly onDone: () => void,
  ) {
    this.log = opts.logger;
    this.peer = socket.remoteAddress;
    this.conn = new EslConnection(socket, {
      onClose: (hadError) => this.onClose(hadError),
      onProtocolError: (err) => this.cut(err.message),
    });
  }

  start(): void {
    const timeoutMs = this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.timer = setTimeout(
      () => this.cut(`no channel data within ${timeoutMs} ms of connecting`),
      timeoutMs,
    );
    this.timer.unref();
    this.conn.send(CONNECT).then(
      (reply) => {
        clearTimeout(this.timer);
        this.decide(reply.headers);
      },
      () => {
        // closed before the channel data came: nothing was started, nothing to undo
      },
    );
  }

  /** Cuts the connection at once (shutdown after the drain timeout). */
  abort(): void {
    this.conn.destroy();
  }

  /** Gives up on a peer that is not a working FreeSWITCH: one line saying why, then the socket goes. */
  private cut(reason: string): void {
    if (this.phase === 'cut' || this.phase === 'done') return;
    this.phase = 'cut';
    this.log.warn(
      { peer: this.peer, reason },
      'ESL outbound: connection closed, the peer is not a working FreeSWITCH',
    );
    this.conn.destroy();
  }

  /** `headers`: the connect reply, which carries the CHANNEL_DATA event in its own headers. */
  private decide(headers: EslHeaders): void {
    if (this.phase !== 'connecting') return;
    const gate = callFromChannel(headers, this.opts.defaultTenant);
    if (!gate.ok) {
      this.log.warn(
        { callId: gate.callId, reason: gate.reason },
        'call turned away unscreened: the dialplan failure policy takes it',
      );
      this.carryOut(RELEASE);
      return;
    }
    const { call } = gate;
    this.log = this.opts.logger.child({
      callId: call.callId,
      from: call.calling,
      to: call.called,
      tenant: call.tenant,
    });
    let screening: ReturnType<CallScreener['screen']>;
    try {
      screening = this.opts.screener.screen(call);
    } catch (err) {
      this.log.error({ err }, 'screening failed; the dialplan failure policy takes the call');
      this.carryOut(RELEASE);
      return;
    }
    const { plan } = screening;
    this.log.debug(
      {
        result: plan.result,
        end: plan.end.kind,
        rule: screening.decision?.ruleId ?? undefined,
        event: plan.event?.type,
      },
      'decided',
    );
    this.carryOut(plan);
  }

  /**
   * One write; FreeSWITCH answers each command, says goodbye and closes. A peer that never answers
   * or never closes is cut after a grace period, so no session outlives it.
   */
  private carryOut(plan: CallPlan): void {
    this.phase = 'exiting';
    this.timer = setTimeout(() => {
      this.log.warn('FreeSWITCH did not close the socket after exit in time; cutting it');
      this.conn.destroy();
    }, this.opts.settleTimeoutMs ?? 5000);
    this.timer.unref();
    this.conn.sendBatch(outboundPlanCommands(plan)).then(
      () => this.conn.close(),
      () => {
        // the socket closed under us: onClose tells whether that was the caller leaving
      },
    );
  }

  private onClose(hadError: boolean): void {
    clearTimeout(this.timer);
    const was = this.phase;
    this.phase = 'done';
    if (was === 'connecting') {
      // FreeSWITCH closes a socket without linger when the caller hangs up: that is a call that
      // left, not a fault.
      this.log.info({ hadError }, 'channel already gone: socket closed by FreeSWITCH');
    } else {
      this.log.debug('session closed');
    }
    this.onDone();
  }
}

/**
 * Outbound socket mode: FreeSWITCH's `socket 127.0.0.1:8084 async full` connects here once per call.
 * Live sessions are kept in a Set so that drain() can stop taking calls and finish the live ones.
 */
export class EslOutboundServer {
  private readonly server: Server;
  private readonly sessions = new Set<OutboundSession>();
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private readonly allowlist: PeerAllowlist;

  constructor(private readonly opts: OutboundServerOptions) {
    this.allowlist = new PeerAllowlist(opts.allowFrom ?? '127.0.0.1/32,::1/128');
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Resolves with the bound port once listening. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        // Accept errors after start (EMFILE and the like) are logged; the server keeps listening.
        this.server.on('error', (err) =>
          this.opts.logger.error({ err: err.message }, 'ESL outbound socket server error'),
        );
        const address = this.server.address();
        const port = typeof address === 'object' && address ? address.port : this.opts.port;
        this.opts.logger.info({ host: this.opts.host, port }, 'ESL outbound socket server listening');
        resolve(port);
      });
    });
  }

  get liveCalls(): number {
    return this.sessions.size;
  }

  /** Stops taking calls, lets the live ones finish (bounded), then closes. */
  async drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.opts.logger.info({ live: this.sessions.size }, 'ESL outbound: draining');
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.sessions.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.opts.drainTimeoutMs ?? 10_000);
      });
      await Promise.race([idle, timeout]);
      clearTimeout(timer);
      if (this.sessions.size > 0) {
        this.opts.logger.warn(
          { live: this.sessions.size },
          'ESL outbound: drain timed out; cutting live calls',
        );
        this.abort();
      }
    }
    await closed;
  }

  /** Cuts every live session at once, as if the process died. */
  abort(): void {
    this.draining = true;
    this.server.close();
    for (const s of this.sessions) s.abort();
  }

  private accept(socket: Socket): void {
    if (!this.allowlist.allows(socket.remoteAddress)) {
      // Anyone else could forge channel data, probe which numbers are blocked and fire webhooks.
      eslPeersRefusedTotal.inc();
      this.opts.logger.warn(
        { peer: socket.remoteAddress },
        'ESL outbound: peer not in ESL_ALLOW_FROM; connection closed',
      );
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    // While draining the listener is closed, so FreeSWITCH gets "connection refused" and its dialplan
    // goes on with the failure policy; a connection that raced in before that is served as usual.
    const session: OutboundSession = new OutboundSession(socket, this.opts, () => {
      this.sessions.delete(session);
      if (this.sessions.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
    this.sessions.add(session);
    session.start();
  }
}
