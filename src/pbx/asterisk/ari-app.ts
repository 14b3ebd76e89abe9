import type { CallEventSink } from '../../call/call-events.js';
import { type CallPlan, planForFailure } from '../../call/call-plan.js';
import { CallScreener, type DeciderSource, type DecisionObserver } from '../../call/call-screener.js';
import type { IncomingCall } from '../../call/incoming-call.js';
import type { Logger } from '../../log.js';
import { AriCallReader, type ReadResult } from './ari-call-reader.js';
import type { AriConnection, AriListener } from './ari-connection.js';
import { readAriEvent } from './ari-event.js';
import type { AriChannel, AriChannelEvent, AriEvent, AriStasisStart } from './ari-types.js';

const RECENT_LIMIT = 4096;
/** The pause before a failed continue or hangup is sent again. */
const FINISH_RETRY_MS = 200;

/** A call the gate turned away: back to the dialplan with no CALLGUARD_RESULT (its failure policy acts). */
const RELEASE: CallPlan = Object.freeze({
  result: 'allow',
  variables: [],
  end: Object.freeze({ kind: 'continue' }),
});

export interface AriAppOptions {
  readonly connection: AriConnection;
  readonly source: DeciderSource;
  readonly events: CallEventSink;
  readonly logger: Logger;
  /** CALLGUARD_DEFAULT_TENANT; unset: a call without a tenant is turned away. */
  readonly defaultTenant?: string;
  readonly fetchMissingVariables?: boolean;
  /** The Stasis application name (ARI_APP), to recognise our channels when adopting. Default callguard. */
  readonly appName?: string;
  /** Sees every decision on the call path (audit, hit counters); must only push into memory. */
  readonly observer?: DecisionObserver;
}

export interface DrainOptions {
  /** How long live calls may take to finish before the socket is closed anyway. */
  readonly timeoutMs?: number;
  /** The socket is closed once no event arrived for this long. */
  readonly quietMs?: number;
}

interface CallSession {
  readonly log: Logger;
  /** The channel left Stasis (caller hung up, or our own end came back as StasisEnd). */
  gone: boolean;
}

/**
 * The Stasis application: every StasisStart is read into an IncomingCall, screened in memory, and
 * carried out with as few round trips as possible (variables in parallel, then continue or hangup).
 * A channel that leaves while we decide is expected, logged at debug.
 */
export class AriApp implements AriListener {
  private readonly sessions = new Map<string, CallSession>();
  private readonly screener: CallScreener;
  private readonly reader: AriCallReader;
  private readonly conn: AriConnection;
  private readonly log: Logger;
  private readonly source: DeciderSource;
  private readonly observer: DecisionObserver | undefined;
  private draining = false;
  private stopping: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private connected = false;
  private readonly appName: string;
  /** Channels handled lately, so that adopting never screens (and reports) a call twice. */
  private readonly recent = new Set<string>();

  constructor(opts: AriAppOptions) {
    this.conn = opts.connection;
    this.log = opts.logger;
    this.source = opts.source;
    this.observer = opts.observer;
    this.appName = opts.appName ?? 'callguard';
    this.screener = new CallScreener(opts.source, opts.events, Date.now, opts.observer);
    this.reader = new AriCallReader(opts.connection, {
      defaultTenant: opts.defaultTenant,
      fetchMissingVariables: opts.fetchMissingVariables,
    });
  }

  /** Connects to ARI; resolves when the events socket is open. */
  start(): Promise<void> {
    return this.conn.start(this);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Calls the app is handling right now. */
  get liveCalls(): number {
    return this.sessions.size;
  }

  onConnected(): void {
    this.connected = true;
    this.log.info({ client: this.conn.kind }, 'ARI events socket open');
    void this.adoptOrphans();
  }

  /**
   * Calls a previous process (or this one before a crash of its socket) left in our Stasis app get
   * no second StasisStart: look for them and screen them as if they had just arrived.
   */
  private async adoptOrphans(): Promise<void> {
    let channels: AriChannel[];
    try {
      channels = await this.conn.listChannels();
    } catch (err) {
      this.log.warn({ err }, 'could not list channels to adopt calls left in Stasis');
      return;
    }
    for (const ch of channels) {
      const dp = ch.dialplan;
      if (dp?.app_name !== 'Stasis' || this.sessions.has(ch.id) || this.recent.has(ch.id)) continue;
      const [app, ...args] = (dp.app_data ?? '').split(',');
      if (app !== this.appName) continue;
      this.log.info({ callId: ch.id }, 'adopting a call left in Stasis');
      void this.handle({ type: 'StasisStart', args, channel: ch });
    }
  }

  onDisconnected(reason: string): void {
    this.connected = false;
    // calls arriving now fail Stasis() in the dialplan, which applies the failure policy
    this.log.warn({ reason, liveCalls: this.sessions.size }, 'ARI events socket lost');
  }

  /**
   * Never throws: it runs inside the socket's message handler, where a throw stops the socket reading
   * (and with it every later call) without closing it.
   */
  onEvent(frame: unknown): void {
    const read = readAriEvent(frame);
    if ('why' in read) {
      this.log.warn(
        { why: read.why, frame: JSON.stringify(frame)?.slice(0, 200) },
        'ARI event not understood; ignored',
      );
      return;
    }
    try {
      this.dispatch(read.event);
    } catch (error) {
      this.log.error(
        { err: error, type: read.event.type },
        'ARI event handling failed; the event is dropped',
      );
    }
  }

  private dispatch(event: AriEvent): void {
    switch (event.type) {
      case 'StasisStart':
        void this.handle(event as AriStasisStart);
        return;
      case 'StasisEnd':
      case 'ChannelDestroyed':
        this.markGone(event as AriChannelEvent);
        return;
      case 'ChannelHangupRequest':
        // soft: our own DELETE; without soft the caller (or the far end) hung up
        if (!(event as AriChannelEvent).soft) this.markGone(event as AriChannelEvent);
        return;
      default:
        return;
    }
  }

  /** The failure policy for a call the screener could not decide; counted like the screener's own. */
  private failurePlan(call: IncomingCall): CallPlan {
    const plan = planForFailure(call, this.source.fallbackHandling(call.tenant));
    try {
      this.observer?.observe(call, { plan, decision: null, ctx: null });
    } catch {
      // an observer must never cost a call its answer
    }
    return plan;
  }

  private whenIdle(deadline: number): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private markGone(event: AriChannelEvent): void {
    const session = event.channel && this.sessions.get(event.channel.id);
    if (session) session.gone = true;
  }

  private async handle(event: AriStasisStart): Promise<void> {
    const ch = event.channel;
    if (this.sessions.has(ch.id)) return; // adopted and announced at the same moment: handle once
    const log = this.log.child({
      callId: ch.id,
      from: ch.caller?.number ?? '',
      to: ch.dialplan?.exten ?? '',
    });
    const session: CallSession = { log, gone: false };
    this.sessions.set(ch.id, session);
    if (this.draining) log.info('call arrived while draining; screening it before the socket closes');
    try {
      let read: ReadResult;
      try {
        read = await this.reader.read(event);
      } catch (err) {
        // the variables could not be read: decide with what the arguments say, by the failure policy
        log.error({ err }, 'reading the call failed; applying the failure policy');
        const gate = this.reader.fromArgs(event);
        await this.carryOut(ch.id, gate.ok ? this.failurePlan(gate.call) : RELEASE, session);
        return;
      }
      if (read.kind === 'gone' || session.gone) {
        log.debug('channel already gone before the decision; nothing to do');
        return;
      }
      if (!read.gate.ok) {
        log.warn(
          { reason: read.gate.reason },
          'call turned away unscreened: the dialplan failure policy takes it',
        );
        await this.carryOut(ch.id, RELEASE, session);
        return;
      }
      const call = read.gate.call;
      let plan: CallPlan;
      try {
        plan = this.screener.screen(call).plan;
      } catch (err) {
        log.error({ err }, 'screening failed; applying the failure policy');
        plan = this.failurePlan(call);
      }
      log.debug({ result: plan.result, end: plan.end, tenant: call.tenant }, 'decided');
      await this.carryOut(ch.id, plan, session);
    } catch (err) {
      log.error({ err }, 'call handling failed');
    } finally {
      this.sessions.delete(ch.id);
      this.recent.add(ch.id);
      if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.values().next().value as string);
      if (this.draining && this.sessions.size === 0) this.drained?.();
    }
  }

  /**
   * One request batch: the variables, then continue or hangup (see AriConnection.finishCall). A batch
   * Asterisk fails (a 500, a dropped connection) is sent once more: without its continue or hangup
   * the call would wait in Stasis, in silence, until the caller gave up. Both requests are safe to
   * repeat.
   */
  private async carryOut(channelId: string, plan: CallPlan, session: CallSession): Promise<void> {
    let outcome: Awaited<ReturnType<AriConnection['finishCall']>>;
    try {
      outcome = await this.conn.finishCall(channelId, plan.variables, plan.end);
    } catch (err) {
      if (session.gone) throw err;
      session.log.warn({ err, end: plan.end.kind }, 'carrying out the decision failed; sending it once more');
      await new Promise((r) => setTimeout(r, FINISH_RETRY_MS));
      outcome = await this.conn.finishCall(channelId, plan.variables, plan.end);
    }
    if (outcome === 'gone' || session.gone) {
      session.log.debug({ end: plan.end.kind }, 'channel already gone while we carried out the decision');
    }
  }

  /**
   * Drains: calls already in Stasis are finished, then the events socket is closed calmly (read
   * until quiet). A call that still arrives meanwhile is screened too: the decision is in memory and
   * better than the failure policy Stasis() would fall back to.
   */
  stop(opts: DrainOptions = {}): Promise<void> {
    this.stopping ??= this.drain(opts);
    return this.stopping;
  }

  private async drain(opts: DrainOptions): Promise<void> {
    this.draining = true;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    if (this.sessions.size > 0)
      this.log.info({ liveCalls: this.sessions.size }, 'draining: finishing live calls');
    await this.whenIdle(deadline);
    await this.conn.closeEvents({
      quietMs: opts.quietMs ?? 250,
      maxWaitMs: Math.max(0, deadline - Date.now()),
    });
    this.connected = false;
    // calls that arrived while the socket was closing still get their answer
    await this.whenIdle(deadline);
    if (this.sessions.size > 0)
      this.log.warn({ liveCalls: this.sessions.size }, 'drain timed out; closing anyway');
    await this.conn.dispose();
    this.log.info('ARI app stopped');
  }
}
