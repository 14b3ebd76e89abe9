import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  applySet,
  bLegFacts,
  CommandSplitter,
  type DoubleCallResult,
  type DoubleCallSpec,
} from './esl-double-common.js';
import {
  type ChannelFacts,
  disconnectNotice,
  type EventTemplate,
  lingerNotice,
  loadTemplates,
  renderConnectReply,
  renderEvent,
  reply,
  substitute,
  type Templates,
} from './esl-frames.js';
import { expandVariables } from './freeswitch-text-semantics.js';

export interface OutboundDoubleOptions {
  host?: string;
  port: number;
  /** How long one call may stay with the app before the double reports it as left there. */
  waitMs?: number;
  /** Called right after the channel data was written (tests use it to kill the app at that point). */
  afterChannelData?: (uuid: string, freeswitch: { drop(): void }) => void;
  /** Holds each sendmsg this long before carrying it out (the reply still comes at once), so calls stay live. */
  sendmsgDelayMs?: number;
  /** A FreeSWITCH that never answers `exit` and never closes (to test the app's grace period). */
  ignoreExit?: boolean;
  /** Answers `exit` (and closes) this much later, so that sessions stay live for a drain test. */
  exitDelayMs?: number;
  /** The channel's tick: queued messages run on the next boundary (default 20 ms, FreeSWITCH's park loop). */
  tickMs?: number;
  templates?: Templates;
}

/**
 * FreeSWITCH in outbound socket mode, as far as the app can tell: per call it connects to the app
 * (like `socket 127.0.0.1:8084 async full`), waits for `connect`, answers with the recorded
 * CHANNEL_DATA reply of this call, and then carries out myevents / linger / resume / sendmsg / exit
 * as FreeSWITCH 1.10.12 did in the recordings.
 *
 * The tick: a parked channel looks at its message queue every 20 ms (switch_ivr_park: switch_yield
 * 20000, then the queued messages). So a sendmsg runs on the next 20 ms boundary after it arrived
 * (boundaries counted from the channel data), every message queued by then runs in that one tick,
 * and after `exit` (or the socket closing) the dialplan goes on at the next boundary, after what is
 * still queued (recorded: b-allowed-pipelined, a-blocked-pipelined). `ticks` in the result counts the
 * ticks the outcome took: 1 when it came in one write, one more per round trip the app waited for.
 * A `set` argument is expanded as FreeSWITCH does (freeswitch-text-semantics.ts).
 */
export class FreeswitchOutboundDouble {
  private readonly templates: Templates;
  /** Live call connections and how FreeSWITCH drops each. */
  private readonly live = new Map<Socket, () => void>();

  constructor(private readonly opts: OutboundDoubleOptions) {
    this.templates = opts.templates ?? loadTemplates();
  }

  /** Drops every live call connection without a word (outbound mode has nothing else to drop). */
  dropConnections(): void {
    for (const drop of this.live.values()) drop();
  }

  placeCall(spec: DoubleCallSpec): Promise<DoubleCallResult> {
    return new Promise((resolve) => {
      const facts = bLegFacts(spec, 'callguard');
      const vars: Record<string, string> = { ...facts.vars };
      const t = this.templates;
      const commands: string[] = [];
      let events: 'plain' | 'json' | null = null;
      let linger = false;
      let alive = true;
      let end: DoubleCallResult['end'] | undefined;
      let cause: string | undefined;
      let t0 = 0;
      let tOutcome: number | undefined;
      let settled = false;
      let hangupTimer: NodeJS.Timeout | undefined;
      const tickMs = this.opts.tickMs ?? 20;
      const queue: Array<Record<string, string>> = [];
      let tickTimer: NodeJS.Timeout | undefined;
      let ticks = 0;
      let released = false;
      let tExit: number | undefined;
      let socketClosed = false;

      const socket = connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port, noDelay: true });
      let droppedHere = false;
      const drop = () => {
        droppedHere = true;
        socket.destroy();
      };
      this.live.set(socket, drop);
      socket.on('error', () => {});
      const write = (s: string) => {
        if (!socket.destroyed && !socket.writableEnded) socket.write(s);
      };
      const current = (): ChannelFacts => ({ ...facts, vars });
      const emit = (tpl: EventTemplate, overrides: Record<string, string> = {}) => {
        if (events) write(renderEvent(events, substitute(tpl, current(), overrides), tpl.body));
      };

      const channelGone = (how: 'hangup' | 'caller-hangup', causeName: string) => {
        if (!alive) return;
        alive = false;
        end = how;
        cause = causeName;
        const o = { 'Hangup-Cause': causeName, 'Answer-State': 'hangup', 'Channel-Call-State': 'HANGUP' };
        emit(t.outbound.hangup, o);
        emit(t.outbound.hangupComplete, o);
        if (linger) write(lingerNotice(facts.uuid));
        else {
          // Without linger FreeSWITCH says goodbye and closes (c-caller-hangs-up-first-no-linger).
          write(disconnectNotice(facts.uuid));
          socket.end();
        }
      };

      /** Runs what is queued on the next boundary; after exit/close the dialplan goes on there. */
      const scheduleTick = (holdMs = 0) => {
        if (tickTimer || settled) return;
        const now = performance.now();
        const after = now + holdMs;
        const next = t0 + Math.max(1, Math.ceil((after - t0) / tickMs)) * tickMs;
        tickTimer = setTimeout(runTick, Math.max(0, next - now));
      };
      const runTick = () => {
        tickTimer = undefined;
        const batch = queue.splice(0);
        const now = performance.now();
        if (batch.length > 0 || (released && alive && end === undefined)) ticks++;
        for (const headers of batch) {
          if (!alive) break;
          this.sendmsg(headers, {
            vars,
            uuid: facts.uuid,
            emit,
            channelGone,
            t,
            now,
            setOutcome: (at) => (tOutcome = at),
          });
        }
        if (released && alive && end === undefined) {
          // the socket app returns; the dialplan goes on after `socket`
          tOutcome ??= now;
          end = 'continue';
        }
        if (socketClosed && queue.length === 0) finish(false);
      };

      const finish = (leftInApp: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(waitTimer);
        clearTimeout(hangupTimer);
        clearTimeout(tickTimer);
        this.live.delete(socket);
        const onlyConnect = commands.length === 1 && commands[0] === 'connect';
        const parked = alive && !leftInApp && onlyConnect && !droppedHere;
        resolve({
          uuid: facts.uuid,
          variables: { ...vars },
          // A socket that ends without a hangup hands the call back to the dialplan (fail-open).
          end: end ?? 'continue',
          cause,
          leftInApp: leftInApp || parked,
          parked,
          latencyMs: tOutcome === undefined ? undefined : tOutcome - t0,
          ticks: tOutcome === undefined ? undefined : ticks,
          appLatencyMs: tExit === undefined ? undefined : tExit - t0,
          commands,
        });
      };
      const waitTimer = setTimeout(() => {
        finish(true);
        socket.destroy();
      }, this.opts.waitMs ?? 3000);

      const splitter = new CommandSplitter((line, headers, readAt) => {
        const [verb, ...args] = line.split(' ');
        commands.push(verb);
        switch (verb) {
          case 'connect':
            {
              const frame = renderConnectReply(substitute(t.connectReply, current()));
              t0 = performance.now();
              write(frame);
            }
            this.opts.afterChannelData?.(facts.uuid, { drop });
            if (spec.hangupAfterMs === 0) channelGone('caller-hangup', 'NORMAL_CLEARING');
            else if (spec.hangupAfterMs !== undefined) {
              hangupTimer = setTimeout(
                () => channelGone('caller-hangup', 'NORMAL_CLEARING'),
                spec.hangupAfterMs,
              );
            }
            return;
          case 'myevents':
            events = args[0] === 'json' ? 'json' : 'plain';
            write(reply('+OK Events Enabled'));
            return;
          case 'event':
            events = args[0] === 'json' ? 'json' : 'plain';
            write(reply(`+OK event listener enabled ${events}`));
            return;
          case 'linger':
            linger = true;
            write(reply('+OK will linger'));
            return;
          case 'nolinger':
            linger = false;
            write(reply('+OK will not linger'));
            return;
          case 'resume':
            write(reply('+OK'));
            return;
          case 'sendmsg':
            // A late sendmsg to a channel that is gone still answers +OK (fixtures README, point 7).
            write(reply('+OK'));
            if (!alive) return;
            queue.push(headers);
            scheduleTick(this.opts.sendmsgDelayMs);
            return;
          case 'exit': {
            tExit ??= readAt;
            if (this.opts.ignoreExit) return;
            const bye = () => {
              released = true;
              if (alive) scheduleTick();
              write(reply('+OK bye'));
              write(disconnectNotice(facts.uuid));
              socket.end();
            };
            if (this.opts.exitDelayMs) setTimeout(bye, this.opts.exitDelayMs);
            else bye();
            return;
          }
          default:
            write(reply('-ERR command not found'));
        }
      });
      socket.on('data', (chunk: Buffer) => splitter.push(chunk));
      socket.on('close', () => {
        socketClosed = true;
        // A socket that goes after the channel data without a word: the call stays parked (see finish).
        const onlyConnect = commands.length === 1 && commands[0] === 'connect';
        if (!alive || end !== undefined || onlyConnect || droppedHere || (!released && queue.length === 0))
          finish(false);
        else {
          released = true;
          scheduleTick();
        }
      });
    });
  }

  private sendmsg(
    headers: Record<string, string>,
    c: {
      vars: Record<string, string>;
      uuid: string;
      emit: (tpl: EventTemplate, overrides?: Record<string, string>) => void;
      channelGone: (how: 'hangup', cause: string) => void;
      t: Templates;
      now: number;
      setOutcome: (at: number) => void;
    },
  ): void {
    const command = headers['call-command'];
    if (command === 'hangup') {
      c.setOutcome(c.now);
      c.channelGone('hangup', headers['hangup-cause'] || 'NORMAL_CLEARING');
      return;
    }
    if (command !== 'execute') return;
    const app = headers['execute-app-name'] ?? '';
    const arg = headers['execute-app-arg'] ?? '';
    // switch_core_session_exec expands the argument, then `set` expands the value once more.
    const scope = () => ({ ...c.vars, uuid: c.uuid });
    const data = expandVariables(arg, scope());
    if (app === 'set') {
      const eq = data.indexOf('=');
      if (eq > 0) applySet(c.vars, data.slice(0, eq), expandVariables(data.slice(eq + 1), scope()));
    }
    if (app === 'hangup') {
      c.setOutcome(c.now);
      c.channelGone('hangup', data || 'NORMAL_CLEARING');
      return;
    }
    const o = {
      Application: app,
      'Application-Data': data,
      'Application-UUID': headers['Event-UUID'] ?? randomUUID(),
    };
    c.emit(c.t.outbound.execute, o);
    c.emit(c.t.outbound.executeComplete, { ...o, 'Application-Response': '_none_' });
  }
}
