import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { backoffMs } from '../backoff.js';
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
}

/**
 * One connection of the tailer and the streams it serves: one for a standalone Redis (it blocks in
 * XREAD), one per Cluster master (it is subscribed to the streams' shard channels).
 */
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
  /** Cluster: the shard channels subscribed, the streams announced since the last read. */
  readonly subscribed: Set<string>;
  readonly dirty: Set<string>;
  /** Cluster: read every stream of the lane on the next round (first round, after a reconnect). */
  readAll: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A failed read is retried after 100 ms, doubling up to 5 s. */
const RETRY = { firstMs: 100, maxMs: 5000 };
const STANDALONE = 'redis';
/** CLIENT LIST shows the tailer's connections under this name. */
export const SYNC_CONNECTION_NAME = 'callguard-sync';

/**
 * Reads every stream a node follows with one connection per Redis server, whatever the number of
 * tenants.
 *
 * Standalone Redis: one XREAD BLOCK of all keys. A stream whose position moved while the read waits
 * (a tenant added or reloaded) wakes it with CLIENT UNBLOCK sent over the node's ordinary client, so
 * it is read again at once with the new positions.
 *
 * Redis Cluster: a cluster-enabled server refuses an XREAD naming keys of several slots (even on its
 * own connection) and tenants sit in one slot each, so no single read can wait on them all. Every
 * change script also SPUBLISHes the new id on the stream's shard channel (same name, same slot);
 * the tailer holds one connection per master subscribed to the channels of the streams that master
 * holds, and reads a stream (through the node's ordinary client) when its channel speaks. Every
 * `blockMs` it reads all of them anyway: a message lost in a reconnect costs at most that.
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

  /** Connections this tailer opened and holds now. */
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
    for (const l of lane ? [lane] : this.allLanes()) {
      if (key === undefined) l.readAll = true;
      else l.dirty.add(key);
      void this.unblock(l);
    }
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

  private get cluster(): Cluster | undefined {
    return !this.o.connection && this.o.client instanceof Cluster ? this.o.client : undefined;
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
        subscribed: new Set(),
        dirty: new Set(),
        readAll: true,
      };
      const l = lane;
      // A new connection has a new id (ask again before the next read); its subscriptions are
      // renewed by ioredis, but what was published meanwhile is read by reading everything.
      conn.on('close', () => (l.clientId = undefined));
      conn.on('ready', () => {
        l.readAll = true;
        l.idle?.();
      });
      conn.on('smessage', (channel: string) => {
        l.dirty.add(channel);
        l.idle?.();
      });
      this.lanes.set(server, lane);
      lane.running = this.cluster ? this.runNotified(lane) : this.runBlocking(lane);
    }
    return lane;
  }

  private serverOf(key: string): string | undefined {
    const cluster = this.cluster;
    if (!cluster) return STANDALONE;
    return (cluster.slots[this.slotOf(key)] as string[] | undefined)?.[0];
  }

  private slotOf(key: string): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = calculateSlot(key);
      this.slots.set(key, slot);
    }
    return slot;
  }

  private openConnection(server: string): { conn: RedisClient; owned: boolean } {
    if (this.o.connection) return { conn: this.o.connection, owned: false };
    const client = this.o.client;
    if (!(client instanceof Cluster)) {
      return { conn: quietErrors(client.duplicate({ connectionName: SYNC_CONNECTION_NAME })), owned: true };
    }
    const at = server.lastIndexOf(':');
    const options = {
      retryStrategy,
      ...client.options.redisOptions,
      host: server.slice(0, at),
      port: Number(server.slice(at + 1)),
      connectionName: SYNC_CONNECTION_NAME,
    };
    return { conn: quietErrors(new Redis(options)), owned: true };
  }

  private async unblock(lane: Lane): Promise<void> {
    lane.idle?.();
    const client = this.o.client;
    const round = lane.blocked;
    // CLIENT UNBLOCK must reach the server the read waits on: standalone only.
    if (round === 0 || client instanceof Cluster || !(lane.conn instanceof Redis)) return;
    // The read may not have reached the server yet: try again for a little while.
    for (let attempt = 0; attempt < 20 && lane.blocked === round && !this.stopped; attempt++) {
      const id = lane.clientId;
      if (id !== undefined) {
        const done = await client.client('UNBLOCK', id, 'TIMEOUT').catch(() => 0);
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

  /** Runs `round` until the tailer stops; a failed round is logged once per outage and retried with backoff. */
  private async loop(lane: Lane, round: () => Promise<Array<[TailedStream, string]>>): Promise<void> {
    let failures = 0;
    let reading: Array<[TailedStream, string]> = [];
    while (!this.stopped) {
      try {
        // Streams of a master with no lane yet (a new master, a slot table read late) get one.
        this.allLanes();
        reading = this.mine(lane);
        if (reading.length === 0) {
          await this.pause(lane, this.blockMs);
          continue;
        }
        const read = await round();
        if (lane.lost)
          this.o.log.info({ server: lane.server, streams: reading.length }, 'change tail reconnected');
        lane.lost = false;
        failures = 0;
        for (const [stream] of read) stream.contact(true);
      } catch (error) {
        if (this.stopped) break;
        if (!lane.lost) {
          this.o.log.warn(
            { server: lane.server, streams: reading.length, err: (error as Error).message },
            'change tail lost Redis; serving the last loaded rules and retrying',
          );
        }
        lane.lost = true;
        lane.readAll = true;
        for (const [stream] of reading) stream.contact(false);
        const cluster = this.cluster;
        // A slot that moved to another master: read the slot table again.
        if (cluster && /MOVED|ASK|CLUSTERDOWN/.test((error as Error).message)) {
          await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
        }
        await sleep(backoffMs(++failures, RETRY));
      }
    }
  }

  /** Standalone: one XREAD BLOCK of every stream. */
  private runBlocking(lane: Lane): Promise<void> {
    return this.loop(lane, async () => {
      const reading = this.mine(lane);
      lane.dirty.clear();
      if (lane.clientId === undefined && lane.conn instanceof Redis) {
        lane.clientId = Number(await lane.conn.client('ID'));
      }
      lane.blocked = ++lane.round;
      let reply: Array<[string, RawEntry[]]> | null;
      try {
        reply = (await lane.conn.xread(
          'COUNT',
          5000,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...reading.map(([s]) => s.key),
          ...reading.map(([, position]) => position),
        )) as Array<[string, RawEntry[]]> | null;
      } finally {
        lane.blocked = 0;
      }
      for (const [key, entries] of reply ?? []) this.deliver(key, entries);
      return reading;
    });
  }

  /** Cluster: subscribed to the shard channels of the master's streams; reads those that spoke. */
  private runNotified(lane: Lane): Promise<void> {
    const conn = lane.conn as Redis;
    let lastFull = 0;
    let noShardChannels = false;
    return this.loop(lane, async () => {
      const reading = this.mine(lane);
      const keys = new Set(reading.map(([s]) => s.key));
      const gone = [...lane.subscribed].filter((k) => !keys.has(k));
      for (const key of gone) lane.subscribed.delete(key);
      if (gone.length > 0 && !noShardChannels) await Promise.all(gone.map((k) => conn.sunsubscribe(k)));
      // Subscribe first, then read: an entry appended in between is read now or announced later.
      const fresh = [...keys].filter((k) => !lane.subscribed.has(k));
      if (fresh.length > 0) {
        try {
          if (!noShardChannels) await Promise.all(fresh.map((k) => conn.ssubscribe(k)));
        } catch (error) {
          // Redis 6: no shard channels; the periodic read of every stream is all there is.
          if (!/unknown command/i.test((error as Error).message)) throw error;
          noShardChannels = true;
          this.o.log.warn(
            { server: lane.server },
            'Redis has no SSUBSCRIBE (Redis 6): changes arrive within blockMs',
          );
        }
        for (const key of fresh) lane.subscribed.add(key);
      }
      const full = lane.readAll || Date.now() - lastFull >= this.blockMs;
      const wanted = full ? reading : reading.filter(([s]) => lane.dirty.has(s.key) || fresh.includes(s.key));
      lane.dirty.clear();
      if (full) {
        lane.readAll = false;
        lastFull = Date.now();
      }
      await Promise.all(
        wanted.map(async ([stream, position]) => {
          const reply = (await this.cluster!.xread('COUNT', 5000, 'STREAMS', stream.key, position)) as Array<
            [string, RawEntry[]]
          > | null;
          for (const [key, entries] of reply ?? []) this.deliver(key, entries);
        }),
      );
      if (lane.dirty.size === 0 && !lane.readAll)
        await this.pause(lane, Math.max(1, lastFull + this.blockMs - Date.now()));
      return full ? reading : wanted;
    });
  }
}
