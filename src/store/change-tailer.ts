import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { quietErrors, type RedisClient, retryStrategy } from './redis-client.js';

/** A stream entry as XREAD returns it: id and flat field/value list. */
export type RawEntry = [string, string[]];

/** A stream a ChangeTailer reads for someone (a tenant's changes, the tenants stream). */
export interface TailedStream {
  readonly key: string;
  /** The id to read after; undefined while the stream is not to be read (its owner is loading). */
  position(): string | undefined;
  /** New entries, oldest first. Called on the event loop between two reads; must not throw. */
  receive(entries: RawEntry[]): void;
  /** The connection reading this stream answered (`true`, with or without entries) or was lost. */
  contact(connected: boolean): void;
}

export interface ChangeTailerOptions {
  /** The node's client: the connections the tailer opens copy its settings; it also sends CLIENT UNBLOCK. */
  readonly client: RedisClient;
  /** Read through this connection instead of opening one (one stream, the caller's connection). */
  readonly connection?: RedisClient;
  readonly log: Logger;
  /** Longest wait of one XREAD; also how often a quiet node confirms it is current. */
  readonly blockMs?: number;
  /** Cluster master with streams of several slots: pause between two reads that found nothing (default 10). */
  readonly pollMs?: number;
}

/** One blocking connection and the streams it reads: one for a standalone Redis, one per Cluster master. */
interface Lane {
  readonly server: string;
  readonly conn: RedisClient;
  readonly owned: boolean;
  clientId: number | undefined;
  /** Counts reads; `blocked` is the read now waiting on the server (0: none). */
  round: number;
  blocked: number;
  idle: (() => void) | undefined;
  lost: boolean;
  running: Promise<void> | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STANDALONE = 'redis';
/** CLIENT LIST shows the tailer's connections under this name. */
export const SYNC_CONNECTION_NAME = 'callguard-sync';

/**
 * Reads every tailed stream of a node with one XREAD BLOCK of many keys per connection: one
 * connection for a standalone Redis, one per master of a Redis Cluster (a read may only name keys of
 * one node, so streams are grouped by the master that holds their slot). A stream whose position
 * moved while its read waits (a tenant reloaded, a tenant added) wakes the read with CLIENT UNBLOCK
 * sent over the node's ordinary client, so it is read again at once with the new positions.
 */
export class ChangeTailer {
  private readonly streams = new Map<string, TailedStream>();
  private readonly lanes = new Map<string, Lane>();
  private readonly slots = new Map<string, number>();
  private stopped = false;
  private started = false;

  constructor(private readonly o: ChangeTailerOptions) {}

  get blockMs(): number {
    return this.o.blockMs ?? 2000;
  }

  private get pollMs(): number {
    return Math.min(this.o.pollMs ?? 10, this.blockMs);
  }

  /** Blocking connections this tailer holds now. */
  connectionCount(): number {
    return [...this.lanes.values()].filter((l) => l.owned).length;
  }

  add(stream: TailedStream): void {
    this.streams.set(stream.key, stream);
    if (this.started) this.wake(stream.key);
  }

  /** Stops reading a stream (only when `stream` is the one registered under its key). */
  remove(stream: TailedStream): void {
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
  }

  start(): this {
    this.started = true;
    this.wake();
    return this;
  }

  /** Reads again at once: the positions of `key` (or of all streams) changed. */
  wake(key?: string): void {
    if (this.stopped || !this.started) return;
    const lane = key === undefined ? undefined : this.laneFor(key);
    for (const l of lane ? [lane] : this.allLanes()) void this.unblock(l);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const lanes = [...this.lanes.values()];
    for (const lane of lanes) {
      if (lane.owned) lane.conn.disconnect();
      lane.idle?.();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, 2000)));
    await Promise.race([Promise.all(lanes.map((l) => l.running)), timeout]);
    clearTimeout(timer);
  }

  /** The lanes every stream needs, each started; on a Cluster the masters come from its slot table. */
  private allLanes(): Lane[] {
    for (const key of this.streams.keys()) this.laneFor(key);
    return [...this.lanes.values()];
  }

  private laneFor(key: string): Lane | undefined {
    const server = this.serverOf(key);
    if (server === undefined) return undefined;
    let lane = this.lanes.get(server);
    if (!lane) {
      const { conn, owned } = this.openConnection(server);
      lane = {
        server,
        conn,
        owned,
        clientId: undefined,
        round: 0,
        blocked: 0,
        idle: undefined,
        lost: false,
        running: undefined,
      };
      const l = lane;
      // A new connection has a new id: ask again before the next read.
      conn.on('close', () => (l.clientId = undefined));
      this.lanes.set(server, lane);
      lane.running = this.run(lane);
    }
    return lane;
  }

  private serverOf(key: string): string | undefined {
    const client = this.o.client;
    if (this.o.connection || !(client instanceof Cluster)) return STANDALONE;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = calculateSlot(key);
      this.slots.set(key, slot);
    }
    return (client.slots[slot] as string[] | undefined)?.[0];
  }

  private openConnection(server: string): { conn: RedisClient; owned: boolean } {
    if (this.o.connection) return { conn: this.o.connection, owned: false };
    const client = this.o.client;
    if (!(client instanceof Cluster)) {
      return { conn: quietErrors(client.duplicate({ connectionName: SYNC_CONNECTION_NAME })), owned: true };
    }
    const [host, port] = [
      server.slice(0, server.lastIndexOf(':')),
      Number(server.slice(server.lastIndexOf(':') + 1)),
    ];
    return {
      conn: quietErrors(
        new Redis({
          retryStrategy,
          ...client.options.redisOptions,
          host,
          port,
          connectionName: SYNC_CONNECTION_NAME,
        }),
      ),
      owned: true,
    };
  }

  /** The node's ordinary connection to the lane's server (CLIENT UNBLOCK must reach that server). */
  private controlOf(lane: Lane): Redis | undefined {
    const client = this.o.client;
    if (this.o.connection) return undefined;
    if (!(client instanceof Cluster)) return client;
    return client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === lane.server);
  }

  private async unblock(lane: Lane): Promise<void> {
    lane.idle?.();
    const round = lane.blocked;
    const control = this.controlOf(lane);
    if (round === 0 || !control) return;
    // The read may not have reached the server yet: try again for a little while.
    for (let attempt = 0; attempt < 20 && lane.blocked === round && !this.stopped; attempt++) {
      const id = lane.clientId;
      if (id !== undefined) {
        const done = await control.client('UNBLOCK', id, 'TIMEOUT').catch(() => 0);
        if (done === 1 || lane.blocked !== round) return;
      }
      await sleep(1);
    }
  }

  private mine(lane: Lane): Array<[TailedStream, string]> {
    const out: Array<[TailedStream, string]> = [];
    for (const stream of this.streams.values()) {
      const position = stream.position();
      if (position !== undefined && this.serverOf(stream.key) === lane.server) out.push([stream, position]);
    }
    return out;
  }

  private deliver(key: string, entries: RawEntry[]): void {
    try {
      this.streams.get(key)?.receive(entries);
    } catch (error) {
      this.o.log.error({ stream: key, err: (error as Error).message }, 'change entries could not be applied');
    }
  }

  /** Waits `ms`, or less when woken. */
  private async pause(lane: Lane, ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      lane.idle = done;
    });
    lane.idle = undefined;
  }

  /** One XREAD BLOCK of every stream (one server, or one slot of a Cluster). */
  private async readBlocking(
    lane: Lane,
    reading: Array<[TailedStream, string]>,
  ): Promise<Array<[string, RawEntry[]]>> {
    if (lane.clientId === undefined && lane.owned) lane.clientId = Number(await lane.conn.client('ID'));
    lane.blocked = ++lane.round;
    try {
      const reply = (await lane.conn.xread(
        'COUNT',
        5000,
        'BLOCK',
        this.blockMs,
        'STREAMS',
        ...reading.map(([s]) => s.key),
        ...reading.map(([, position]) => position),
      )) as Array<[string, RawEntry[]]> | null;
      return reply ?? [];
    } finally {
      lane.blocked = 0;
    }
  }

  /**
   * A Cluster master holding streams of several slots: XREAD may only name keys of one slot (even on
   * a connection to that master), so one read per slot goes in one pipeline, without BLOCK, and the
   * lane polls every `pollMs` while nothing arrives.
   */
  private async readSlots(
    lane: Lane,
    bySlot: Map<number, Array<[TailedStream, string]>>,
  ): Promise<Array<[string, RawEntry[]]>> {
    const pipeline = lane.conn.pipeline();
    for (const group of bySlot.values()) {
      pipeline.xread('COUNT', 5000, 'STREAMS', ...group.map(([s]) => s.key), ...group.map(([, p]) => p));
    }
    const out: Array<[string, RawEntry[]]> = [];
    for (const [error, reply] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      out.push(...((reply as Array<[string, RawEntry[]]> | null) ?? []));
    }
    if (out.length === 0) await this.pause(lane, this.pollMs);
    return out;
  }

  private bySlot(reading: Array<[TailedStream, string]>): Map<number, Array<[TailedStream, string]>> {
    const groups = new Map<number, Array<[TailedStream, string]>>();
    if (!(this.o.client instanceof Cluster) || this.o.connection) return groups.set(0, reading);
    for (const item of reading) {
      const slot = this.slots.get(item[0].key) ?? calculateSlot(item[0].key);
      const group = groups.get(slot);
      if (group) group.push(item);
      else groups.set(slot, [item]);
    }
    return groups;
  }

  private async run(lane: Lane): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      // Streams of a master with no lane yet (a new master, a slot table read late) get one.
      this.allLanes();
      const reading = this.mine(lane);
      if (reading.length === 0) {
        await this.pause(lane, this.blockMs);
        continue;
      }
      try {
        const groups = this.bySlot(reading);
        const reply =
          groups.size === 1 ? await this.readBlocking(lane, reading) : await this.readSlots(lane, groups);
        if (lane.lost)
          this.o.log.info({ server: lane.server, streams: reading.length }, 'change tail reconnected');
        lane.lost = false;
        backoff = 100;
        for (const [stream] of reading) stream.contact(true);
        for (const [key, entries] of reply) this.deliver(key, entries);
      } catch (error) {
        if (this.stopped) break;
        if (!lane.lost) {
          this.o.log.warn(
            { server: lane.server, streams: reading.length, err: (error as Error).message },
            'change tail lost Redis; serving the last loaded rules and retrying',
          );
        }
        lane.lost = true;
        for (const [stream] of reading) stream.contact(false);
        // A key that moved to another master (MOVED): read the slot table again.
        if (this.o.client instanceof Cluster && /MOVED|ASK|CLUSTERDOWN/.test((error as Error).message)) {
          await new Promise<void>((resolve) => (this.o.client as Cluster).refreshSlotsCache(() => resolve()));
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}
