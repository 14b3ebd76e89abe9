import type { Logger } from '../log.js';
import { comparePositions, type EventStreamReader, type StreamEntry } from '../store/event-stream-reader.js';
import type { RedisClient } from '../store/redis-client.js';
import { agentStreamsOpen } from './notify-metrics.js';
import { TenantTails } from './tenant-tails.js';

/** The event types an agent's stream carries. */
const AGENT_EVENT_TYPES = new Set(['agent.popup', 'call.wrapped_up']);

export interface AgentEventHubOptions {
  /** A comment line goes to every open stream this often (proxies close idle connections). */
  readonly heartbeatMs: number;
  /** Longest XREAD BLOCK; also how long a stopped tail may take to notice. */
  readonly blockMs: number;
  /** Entries held for a stream that is not attached yet or still catching up; beyond it the stream is closed. */
  readonly maxQueued: number;
  /** Entries searched backwards for a Last-Event-ID (the stream's MAXLEN is the useful bound). */
  readonly maxResumeScan: number;
  /** A tenant's reader stays this long after its last stream closed (reconnects reuse it). */
  readonly idleStopMs: number;
}

export const DEFAULT_HUB_OPTIONS: AgentEventHubOptions = Object.freeze({
  heartbeatMs: 15_000,
  blockMs: 5_000,
  maxQueued: 10_000,
  maxResumeScan: 100_000,
  idleStopMs: 10_000,
});

/** Where a subscription's events go; `end` closes the client's stream. */
export interface AgentStreamSink {
  event(entry: StreamEntry): void;
  heartbeat(): void;
  end(reason: 'shutdown' | 'overflow' | 'error'): void;
}

/** The agent a call event is for (undefined for other types or a body that does not parse). */
export function agentOf(entry: StreamEntry): string | undefined {
  if (!AGENT_EVENT_TYPES.has(entry.type)) return undefined;
  try {
    const agent = (JSON.parse(entry.body) as { data?: { agent?: unknown } }).data?.agent;
    return typeof agent === 'string' ? agent : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One client's stream: the agent's events after `cursor`, in stream order, each once. Until it is
 * attached (the HTTP answer started) and caught up (Last-Event-ID replay done), events wait in
 * bounded queues; the cursor drops what both the replay and the live tail carried.
 */
export class AgentSubscription {
  private cursor: string;
  private live = false;
  private closed = false;
  private readonly fromTail: Array<[StreamEntry, string | undefined]> = [];
  private readonly toSend: StreamEntry[] = [];
  private sink: AgentStreamSink | undefined;

  constructor(
    readonly agentId: string,
    start: string,
    private readonly maxQueued: number,
    private readonly onClose: (s: AgentSubscription) => void,
  ) {
    this.cursor = start;
  }

  /** From the tenant's tail, in stream order. */
  offer(entry: StreamEntry, agent: string | undefined): void {
    if (this.closed) return;
    if (this.live) this.deliver(entry, agent);
    else if (this.fromTail.push([entry, agent]) > this.maxQueued) this.end('overflow');
  }

  /** Replays from `position` (the entry of the Last-Event-ID) instead of the tail's position. */
  rewind(position: string): void {
    this.cursor = position;
  }

  /** A replayed entry (Last-Event-ID), in stream order. */
  replay(entry: StreamEntry): void {
    this.deliver(entry, agentOf(entry));
  }

  /** Replay done: what the tail brought meanwhile follows, then everything goes straight through. */
  goLive(): void {
    for (const [entry, agent] of this.fromTail.splice(0)) this.deliver(entry, agent);
    this.live = true;
  }

  attach(sink: AgentStreamSink): void {
    if (this.closed) {
      sink.end('overflow');
      return;
    }
    for (const entry of this.toSend.splice(0)) sink.event(entry);
    this.sink = sink;
  }

  heartbeat(): void {
    this.sink?.heartbeat();
  }

  private deliver(entry: StreamEntry, agent: string | undefined): void {
    if (this.closed || comparePositions(entry.position, this.cursor) <= 0) return;
    this.cursor = entry.position;
    if (agent !== this.agentId) return;
    if (this.sink) this.sink.event(entry);
    else if (this.toSend.push(entry) > this.maxQueued) this.end('overflow');
  }

  /** Ends the stream (the client closed it, shutdown, overflow); idempotent. */
  end(reason?: 'shutdown' | 'overflow' | 'error'): void {
    if (this.closed) return;
    this.closed = true;
    this.fromTail.length = 0;
    this.toSend.length = 0;
    if (reason) this.sink?.end(reason);
    this.onClose(this);
  }
}

export interface AgentEventHubDeps {
  readonly reader: EventStreamReader;
  /** A fresh connection for one tenant's blocking read. */
  readonly connect: () => RedisClient;
  readonly log: Logger;
  readonly options?: Partial<AgentEventHubOptions>;
}

/**
 * The agents' push channel on one API node: per tenant ONE reader of its event stream (however many
 * agents are connected), fanning out to every open stream of that tenant, plus one heartbeat timer
 * for all of them. Events come from Redis, so a call node in another process or on another machine
 * reaches the agents connected here.
 */
export class AgentEventHub {
  readonly options: AgentEventHubOptions;
  readonly reader: EventStreamReader;
  readonly connect: () => RedisClient;
  readonly log: Logger;
  private readonly tails: TenantTails<AgentSubscription, StreamEntry>;

  constructor(deps: AgentEventHubDeps) {
    this.options = { ...DEFAULT_HUB_OPTIONS, ...deps.options };
    this.reader = deps.reader;
    this.connect = deps.connect;
    this.log = deps.log;
    this.tails = new TenantTails<AgentSubscription, StreamEntry>(
      {
        start: (tenant) => this.reader.end(tenant),
        read: (connection, tenant, position) =>
          this.reader.waitAfter(connection, tenant, position, this.options.blockMs, 500),
        positionOf: (entry) => entry.position,
        offer: (entry, subs) => {
          const agent = agentOf(entry);
          for (const s of subs) s.offer(entry, agent);
        },
        failed: (error, tenant) => {
          this.log.warn({ err: error, tenant }, 'agent streams: reading the event stream failed; retrying');
        },
        opened: () => agentStreamsOpen.inc(),
        closed: () => agentStreamsOpen.dec(),
      },
      () => this.connect(),
      this.options,
    );
  }

  /** Open streams on this node. */
  get streams(): number {
    return this.tails.streams;
  }

  /** Tenants with a reader running. */
  get readers(): number {
    return this.tails.readers;
  }

  /**
   * Opens an agent's stream: live from now, or, with `lastEventId`, first every event of the stream
   * after that one. `resumed` is false when that id is no longer in the stream (trimmed by MAXLEN,
   * or never there): the stream then starts from now.
   */
  async subscribe(
    tenant: string,
    agentId: string,
    lastEventId?: string,
  ): Promise<{ subscription: AgentSubscription; resumed: boolean }> {
    if (this.tails.closed) throw new Error('the agent event hub is closed');
    const t = await this.tails.open(tenant);
    const sub = new AgentSubscription(agentId, t.position, this.options.maxQueued, (s) => t.remove(s));
    t.add(sub);
    let resumed = lastEventId === undefined;
    try {
      const from =
        lastEventId === undefined
          ? undefined
          : await this.reader.positionOf(tenant, lastEventId, this.options.maxResumeScan);
      if (from !== undefined) {
        resumed = true;
        sub.rewind(from);
        for (let cursor = from; ; ) {
          const rows = await this.reader.after(tenant, cursor, 500);
          for (const row of rows) sub.replay(row);
          if (rows.length < 500) break;
          cursor = rows.at(-1)!.position;
        }
      }
    } catch (error) {
      sub.end();
      throw error;
    }
    sub.goLive();
    return { subscription: sub, resumed };
  }

  /** Ends every stream (clients see the connection close and reconnect elsewhere) and stops the readers. */
  close(): void {
    this.tails.close();
  }
}
