import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import type { CallScreener } from '../call-screener.js';
import { callFromChannel } from './channel-call.js';
import { type EslEvent, type EslHeaders, encodeCommand, eventHeader } from './esl-codec.js';
import { EslConnection } from './esl-connection.js';
import { outboundPlanCommands } from './esl-plan-commands.js';

export interface OutboundServerOptions {
  readonly host: string;
  readonly port: number;
  readonly screener: CallScreener;
  readonly logger: Logger;
  readonly defaultTenant: string;
  /** How long a session waits for FreeSWITCH to confirm the outcome before it lets go anyway. */
  readonly settleTimeoutMs?: number;
  /** How long drain() waits for live calls before cutting them. */
  readonly drainTimeoutMs?: number;
}

const CONNECT = encodeCommand('connect');
const MYEVENTS = encodeCommand('myevents');
const LINGER = encodeCommand('linger');
const RESUME = encodeCommand('resume');
const EXIT = encodeCommand('exit');

type Phase = 'connecting' | 'deciding' | 'settling' | 'exiting' | 'done';

/**
 * One call handed over by FreeSWITCH's `socket` application. `connect` returns the channel data;
 * the decision is made at once and written in one go (myevents, linger, resume, the sets, the
 * hangup); the session then waits only for FreeSWITCH to confirm the outcome before `exit`.
 * CHANNEL_PARK is never waited for: whether it arrives is a race (fixtures README, point 3).
 */
class OutboundSession {
  private phase: Phase = 'connecting';
  private log: Logger;
  private readonly conn: EslConnection;
  private readonly lastSetId = randomUUID();
  private gone = false;
  private expect: 'hangup' | 'execute' | null = null;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    private readonly opts: OutboundServerOptions,
    private readonly onDone: () => void,
  ) {
    this.log = opts.logger;
    this.conn = new EslConnection(socket, {
      onEvent: (e) => this.onEvent(e),
      onDisconnectNotice: (h) => this.onDisconnectNotice(h),
      onClose: (hadError) => this.onClose(hadError),
    });
  }

  start(): void {
    this.conn.send(CONNECT).then(
      (reply) => this.decide(reply.headers),
      () => {
        // closed before the channel data came: nothing was started, nothing to undo
      },
    );
  }

  /** Cuts the connection at once (shutdown after the drain timeout). */
  abort(): void {
    this.conn.destroy();
  }

  /** `headers`: the connect reply, which carries the CHANNEL_DATA event in its own headers. */
  private decide(headers: EslHeaders): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'deciding';
    const gate = callFromChannel(headers, this.opts.defaultTenant);
    if (!gate.ok) {
      // No CALLGUARD_RESULT: the dialplan's failure policy takes the call.
      this.log.warn({ reason: gate.reason }, 'channel turned away unscreened');
      this.exit();
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
      this.exit();
      return;
    }
    const { plan } = screening;
    this.expect = plan.end.kind === 'hangup' ? 'hangup' : 'execute';
    this.phase = 'settling';
    const commands = [MYEVENTS, LINGER, RESUME, ...outboundPlanCommands(plan, this.lastSetId)];
    this.log.debug(
      {
        result: plan.result,
        end: plan.end.kind,
        rule: screening.decision?.ruleId ?? undefined,
        event: plan.event?.type,
      },
      'decided',
    );
    this.settleTimer = setTimeout(() => {
      this.log.warn({ waitedFor: this.expect }, 'FreeSWITCH did not confirm the outcome in time; letting go');
      this.exit();
    }, this.opts.settleTimeoutMs ?? 5000);
    this.settleTimer.unref();
    if (plan.end.kind === 'continue' && plan.variables.length === 0) this.expect = null;
    this.conn.sendBatch(commands).then(
      () => {
        if (this.expect === null) this.exit();
      },
      () => {
        // the socket closed under us: onClose tells whether that was the caller leaving
      },
    );
  }

  private onEvent(event: EslEvent): void {
    switch (event.name) {
      case 'CHANNEL_EXECUTE_COMPLETE':
        if (this.expect === 'execute' && eventHeader(event, 'Application-UUID') === this.lastSetId)
          this.exit();
        return;
      case 'CHANNEL_HANGUP':
      case 'CHANNEL_HANGUP_COMPLETE':
        this.gone = true;
        if (this.phase === 'settling' && this.expect === 'hangup') this.exit();
        else if (this.phase === 'settling') {
          this.log.info(
            { cause: eventHeader(event, 'Hangup-Cause') },
            'channel already gone: the caller hung up',
          );
          this.exit();
        }
        return;
    }
  }

  private onDisconnectNotice(headers: EslHeaders): void {
    if (headers['Content-Disposition'] === 'linger') {
      // The channel is gone; the socket stays until we say exit.
      this.gone = true;
      if (this.phase === 'settling') this.exit();
    }
  }

  private exit(): void {
    if (this.phase === 'exiting' || this.phase === 'done') return;
    this.phase = 'exiting';
    clearTimeout(this.settleTimer);
    // FreeSWITCH answers +OK bye, sends a disconnect notice and closes; we close our side too. A peer
    // that never answers or never closes is cut after a grace period, so no session outlives it.
    this.settleTimer = setTimeout(() => this.conn.destroy(), this.opts.settleTimeoutMs ?? 5000);
    this.settleTimer.unref();
    this.conn.send(EXIT).then(
      () => this.conn.close(),
      () => {},
    );
  }

  private onClose(hadError: boolean): void {
    clearTimeout(this.settleTimer);
    const was = this.phase;
    this.phase = 'done';
    if (was === 'deciding' || was === 'settling' || was === 'connecting') {
      // FreeSWITCH closes a socket without linger when the caller hangs up: that is a call that
      // left, not a fault.
      this.log.info(
        { phase: was, gone: this.gone, hadError },
        'channel already gone: socket closed by FreeSWITCH',
      );
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

  constructor(private readonly opts: OutboundServerOptions) {
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
