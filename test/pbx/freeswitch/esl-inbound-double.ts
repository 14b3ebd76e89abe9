import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  applySet,
  bLegFacts,
  CommandSplitter,
  type DoubleCallResult,
  type DoubleCallSpec,
} from './esl-double-common.js';
import {
  apiResponse,
  type ChannelFacts,
  disconnectNotice,
  type EventTemplate,
  loadTemplates,
  renderEvent,
  reply,
  substitute,
  type Templates,
} from './esl-frames.js';
import { separateString } from './freeswitch-text-semantics.js';

export interface InboundDoubleOptions {
  password?: string;
  /** The event socket's ACL turns every connection away (text/rude-rejection, then close). */
  denyByAcl?: boolean;
  waitMs?: number;
  templates?: Templates;
}

interface Client {
  socket: Socket;
  authed: boolean;
  format: 'plain' | 'json' | null;
  events: Set<string>;
  commands: string[];
}

interface Channel {
  facts: ChannelFacts;
  vars: Record<string, string>;
  alive: boolean;
  end?: DoubleCallResult['end'];
  cause?: string;
  transfer?: string;
  t0: number;
  tOutcome?: number;
  commands: string[];
  done?: () => void;
  /** The park dialplan's `sched_transfer` fallback (its failure policy when nobody acts). */
  fallback?: NodeJS.Timeout;
}

/**
 * FreeSWITCH's event socket (inbound mode) as far as the app can tell: auth/request, `auth`,
 * `event plain|json`, `api` (status, uuid_exists, uuid_getvar, uuid_setvar, uuid_kill,
 * uuid_transfer), `bgapi` with its BACKGROUND_JOB, `exit`, and the replies, errors and disconnect
 * notices recorded from FreeSWITCH 1.10.12. A placed call is a parked loopback b-leg: its
 * CHANNEL_PARK goes to every subscriber; after a transfer the a-leg parks too (Call-Direction
 * outbound), as it did in the recordings.
 */
export class FreeswitchInboundDouble {
  private readonly server: Server;
  private readonly templates: Templates;
  private readonly clients = new Set<Client>();
  private readonly channels = new Map<string, Channel>();
  private subscriberWaiters: Array<() => void> = [];
  password: string;
  denyByAcl: boolean;
  /** Every auth attempt: the password given and whether it was accepted. */
  readonly authAttempts: Array<{ password: string; ok: boolean }> = [];
  /** Every command any connection sent, in order. */
  readonly commandLog: string[] = [];
  /** Every `event ...` subscription, in order. */
  readonly subscriptions: string[] = [];

  constructor(private readonly opts: InboundDoubleOptions = {}) {
    this.password = opts.password ?? 'ClueCon';
    this.denyByAcl = opts.denyByAcl ?? false;
    this.templates = opts.templates ?? loadTemplates();
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(port, '127.0.0.1', () => {
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** FreeSWITCH restarts or the network drops: every connection goes without a word. */
  dropConnections(): void {
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
  }

  /** Writes `bytes` as they are to every connection: what a broken or hostile event socket sends. */
  sendRaw(bytes: string): void {
    for (const c of this.clients) c.socket.write(bytes);
  }

  get parkSubscribers(): number {
    let n = 0;
    for (const c of this.clients) if (c.authed && c.format && c.events.has('CHANNEL_PARK')) n++;
    return n;
  }

  /** Resolves when some authenticated connection listens for CHANNEL_PARK (false after timeoutMs). */
  waitForSubscriber(timeoutMs = 5000): Promise<boolean> {
    if (this.parkSubscribers > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.subscriberWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  get liveChannels(): number {
    let n = 0;
    for (const ch of this.channels.values()) if (ch.alive) n++;
    return n;
  }

  placeCall(spec: DoubleCallSpec): Promise<DoubleCallResult> {
    const facts = bLegFacts(spec, 'callguard_park');
    const ch: Channel = { facts, vars: { ...facts.vars }, alive: true, t0: 0, commands: [] };
    this.channels.set(facts.uuid, ch);
    return new Promise((resolve) => {
      let settled = false;
      let hangupTimer: NodeJS.Timeout | undefined;
      const finish = (leftInApp: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(waitTimer);
        clearTimeout(hangupTimer);
        clearTimeout(ch.fallback);
        ch.done = undefined;
        this.channels.delete(facts.uuid);
        resolve({
          uuid: facts.uuid,
          variables: { ...ch.vars },
          end: ch.end ?? 'continue',
          cause: ch.cause,
          leftInApp,
          parked: leftInApp && ch.alive,
          transfer: ch.transfer,
          latencyMs: ch.tOutcome === undefined ? undefined : ch.tOutcome - ch.t0,
          commands: ch.commands,
        });
      };
      const waitTimer = setTimeout(() => finish(ch.alive && ch.end === undefined), this.opts.waitMs ?? 3000);
      ch.done = () => finish(false);
      if (spec.fallbackAfterMs !== undefined) {
        ch.fallback = setTimeout(() => {
          // sched_transfer +N callguard_unscreened XML callguard_result: no result, the dialplan decides
          if (!ch.alive) return;
          ch.end = 'continue';
          ch.transfer = 'callguard_unscreened XML callguard_result';
          ch.commands.push('fallback');
          ch.alive = false;
          ch.done?.();
        }, spec.fallbackAfterMs);
      }
      this.broadcast(
        'CHANNEL_PARK',
        this.templates.inbound,
        'park',
        { ...facts, vars: ch.vars },
        {},
        undefined,
        () => {
          ch.t0 = performance.now();
        },
      );
      if (spec.hangupAfterMs === 0) this.hangup(ch, 'caller-hangup', 'NORMAL_CLEARING');
      else if (spec.hangupAfterMs !== undefined) {
        hangupTimer = setTimeout(
          () => this.hangup(ch, 'caller-hangup', 'NORMAL_CLEARING'),
          spec.hangupAfterMs,
        );
      }
    });
  }

  private broadcast(
    name: string,
    templates: Templates['inbound'],
    which: 'park' | 'hangupComplete' | 'backgroundJob',
    facts: ChannelFacts,
    overrides: Record<string, string> = {},
    body?: string,
    /** Called once every frame is rendered, right before the first one is written. */
    beforeWrite?: () => void,
  ): void {
    const frames: Array<[Socket, string]> = [];
    for (const c of this.clients) {
      if (!c.authed || !c.format || !(c.events.has(name) || c.events.has('ALL'))) continue;
      const tpl: EventTemplate = templates[c.format][which];
      frames.push([c.socket, renderEvent(c.format, substitute(tpl, facts, overrides), body ?? tpl.body)]);
    }
    beforeWrite?.();
    for (const [socket, frame] of frames) socket.write(frame);
  }

  private hangup(ch: Channel, how: 'hangup' | 'caller-hangup', cause: string): void {
    if (!ch.alive) return;
    ch.alive = false;
    ch.end ??= how;
    if (how === 'hangup' || ch.end === 'caller-hangup') ch.cause ??= cause;
    const o = { 'Hangup-Cause': cause, 'Answer-State': 'hangup', 'Channel-Call-State': 'HANGUP' };
    this.broadcast(
      'CHANNEL_HANGUP_COMPLETE',
      this.templates.inbound,
      'hangupComplete',
      { ...ch.facts, vars: ch.vars },
      o,
    );
    this.broadcast('CHANNEL_HANGUP_COMPLETE', this.templates.inbound, 'hangupComplete', aLegOf(ch), o);
    if (how === 'hangup') ch.done?.();
    // A caller who left: the call is over for the app once it acted or gave up; give it a moment.
    else setTimeout(() => ch.done?.(), 100).unref();
  }

  private accept(socket: Socket): void {
    const client: Client = { socket, authed: false, format: null, events: new Set(), commands: [] };
    this.clients.add(client);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => this.clients.delete(client));
    const splitter = new CommandSplitter((line, _headers, readAt) => this.command(client, line, readAt));
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    if (this.denyByAcl) {
      const text = 'Access Denied, go away.\n';
      socket.end(`Content-Type: text/rude-rejection\nContent-Length: ${text.length}\n\n${text}`);
      return;
    }
    socket.write('Content-Type: auth/request\n\n');
  }

  private command(c: Client, line: string, now: number): boolean | undefined {
    c.commands.push(line);
    this.commandLog.push(line);
    const space = line.indexOf(' ');
    const verb = space === -1 ? line : line.slice(0, space);
    const rest = space === -1 ? '' : line.slice(space + 1);
    const write = (s: string): boolean => !c.socket.destroyed && c.socket.write(s);
    if (!c.authed) {
      if (verb !== 'auth') return write(reply('-ERR command not found'));
      const ok = rest === this.password;
      this.authAttempts.push({ password: rest, ok });
      if (ok) {
        c.authed = true;
        return write(reply('+OK accepted'));
      }
      write(reply('-ERR invalid'));
      write(disconnectNotice());
      c.socket.end();
      return;
    }
    switch (verb) {
      case 'event': {
        const [format, ...names] = rest.split(' ').filter(Boolean);
        if (format !== 'plain' && format !== 'json') return write(reply('-ERR invalid format'));
        c.format = format;
        for (const n of names) c.events.add(n);
        this.subscriptions.push(rest);
        write(reply(`+OK event listener enabled ${format}`));
        if (c.events.has('CHANNEL_PARK')) for (const w of this.subscriberWaiters.splice(0)) w();
        return;
      }
      case 'noevents':
        c.format = null;
        c.events.clear();
        return write(reply('+OK no longer listening for events'));
      case 'api':
        return write(apiResponse(this.api(rest, now)));
      case 'bgapi': {
        const job = randomUUID();
        write(reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`));
        const result = this.api(rest, now);
        const [cmd, ...args] = rest.split(' ');
        setImmediate(() =>
          this.broadcast(
            'BACKGROUND_JOB',
            this.templates.inbound,
            'backgroundJob',
            {
              uuid: job,
              otherUuid: job,
              calling: '',
              called: '',
              context: '',
              leg: 'b',
              callDirection: 'inbound',
              vars: {},
            },
            { 'Job-UUID': job, 'Job-Command': cmd, 'Job-Command-Arg': args.join(' ') },
            result,
          ),
        );
        return;
      }
      case 'exit':
        write(reply('+OK bye'));
        write(disconnectNotice());
        c.socket.end();
        return;
      default:
        write(reply('-ERR command not found'));
    }
  }

  /** `show channels as json`: `{"row_count": 0}` or `{"row_count":N,"rows":[...]}` (mod_commands show_function). */
  private showChannels(commandLine: string): string {
    if (!/^show channels as json\s*$/.test(commandLine)) return '-USAGE: show channels as json\n';
    const rows: ShowChannelsRow[] = [];
    for (const ch of this.channels.values()) {
      if (!ch.alive) continue;
      rows.push({
        uuid: ch.facts.uuid,
        direction: ch.facts.callDirection,
        name: `loopback/${ch.facts.called}-${ch.facts.leg}`,
        state: 'CS_EXECUTE',
        cid_num: ch.facts.calling,
        dest: ch.facts.called,
        application: 'park',
        context: ch.facts.context,
      });
    }
    if (rows.length === 0) return '{"row_count": 0}\n';
    return `${JSON.stringify({ row_count: rows.length, rows }, null, 2)}\n`;
  }

  /** `uuid_dump <uuid> json`: the channel's data as one JSON object (switch_event_serialize_json). */
  private dump(ch: Channel): string {
    const pairs = substitute(this.templates.inbound.json.park, { ...ch.facts, vars: ch.vars });
    const obj: Record<string, unknown> = {};
    for (const [n, v] of pairs) obj[n] = v;
    obj['Event-Name'] = 'CHANNEL_DATA';
    return JSON.stringify(obj);
  }

  private api(commandLine: string, now: number): string {
    const [cmd, uuid = '', ...args] = commandLine.split(' ');
    if (cmd === 'show') return this.showChannels(commandLine);
    const ch = this.channels.get(uuid);
    ch?.commands.push(cmd);
    const noSuch = '-ERR No such channel!\n';
    switch (cmd) {
      case 'status':
        return `UP 0 years, 0 days, 0 hours, 1 minute\nFreeSWITCH (Version 1.10.12-release  64bit) is ready\n${this.liveChannels} session(s) - peak 1\n`;
      case 'uuid_exists':
        return ch?.alive ? 'true' : 'false';
      case 'uuid_getvar':
        if (!ch?.alive) return noSuch;
        return ch.vars[args[0]] ?? '_undef_';
      case 'uuid_setvar': {
        if (!ch?.alive) return noSuch;
        // mod_commands: switch_separate_string(cmd, ' ', argv, 3), the value set as it is (no expansion)
        const [, name = '', value = ''] = separateString(commandLine.slice(cmd.length + 1), 3);
        applySet(ch.vars, name, value);
        return '+OK\n';
      }
      case 'uuid_dump':
        if (!ch?.alive) return noSuch;
        return this.dump(ch);
      case 'sched_del': {
        // the group of a channel's scheduled tasks is its uuid (switch_ivr_schedule_transfer)
        const had = ch?.fallback !== undefined;
        clearTimeout(ch?.fallback);
        if (ch) ch.fallback = undefined;
        return `+OK Deleted: ${had ? 1 : 0}\n`;
      }
      case 'uuid_kill':
        if (!ch?.alive) return noSuch;
        ch.tOutcome = now;
        ch.end = 'hangup';
        ch.cause = args[0] || 'NORMAL_CLEARING';
        setImmediate(() => this.hangup(ch, 'hangup', ch.cause ?? 'NORMAL_CLEARING'));
        return '+OK\n';
      case 'uuid_transfer': {
        if (!ch?.alive) return noSuch;
        ch.tOutcome = now;
        ch.end = 'continue';
        ch.transfer = args.join(' ');
        setImmediate(() => {
          // The allowed context answers; the loopback a-leg then runs &park (fixtures README, point 11).
          this.broadcast('CHANNEL_PARK', this.templates.inbound, 'park', aLegOf(ch));
          ch.done?.();
          ch.alive = false;
          this.channels.delete(ch.facts.uuid);
        });
        return '+OK\n';
      }
      default:
        return `-ERR ${cmd} Command not found!\n`;
    }
  }
}

/** Not recorded: the shapes of mod_commands `show channels as json` and `uuid_dump <uuid> json`. */
export interface ShowChannelsRow {
  uuid: string;
  direction: string;
  name: string;
  state: string;
  cid_num: string;
  dest: string;
  application: string;
  context: string;
}

/** The loopback a-leg paired with a screened b-leg channel, as FreeSWITCH reports it. */
function aLegOf(ch: Channel): ChannelFacts {
  return {
    ...ch.facts,
    uuid: ch.facts.otherUuid,
    otherUuid: ch.facts.uuid,
    leg: 'a',
    callDirection: 'outbound',
    vars: {},
  };
}
