import { compareVersions } from './change-stream.js';
import { tenantKeys } from './keys.js';
import { connectionOf, type RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';
import type { PackedStrings } from './snapshot-handover.js';
import type { SnapshotPointer, SnapshotRead } from './snapshot-pointer.js';
import { READ_IN_THREAD_FROM, readSnapshotInThread } from './snapshot-reader.js';

export type { SnapshotPointer, SnapshotRead } from './snapshot-pointer.js';

export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * The cached compiled snapshot of a tenant's rules in Redis: chunks under a fresh generation, then
 * one script flips the pointer (flip-snapshot-2.lua), so a reader sees the old snapshot or the new
 * one, never half. Old chunks expire after a grace period rather than vanish under a reader.
 */
export class SnapshotStore {
  constructor(
    private readonly client: RedisClient,
    private readonly options: {
      chunkBytes?: number;
      graceSeconds?: number;
      /** Read on this thread even when large (the reader thread itself). */
      readHere?: boolean;
    } = {},
  ) {}

  async pointer(tenant: string): Promise<SnapshotPointer | undefined> {
    const h = await this.client.hgetall(tenantKeys(tenant).snapshotPointer);
    if (!h.gen || !h.version) return undefined;
    return {
      gen: Number(h.gen),
      version: h.version,
      chunks: Number(h.chunks),
      bytes: Number(h.bytes),
      createdAt: Number(h.createdAt),
    };
  }

  /** Stores a snapshot; false when the stored one already covers this version or a later one. */
  async write(tenant: string, bytes: Uint8Array, version: string, createdAt = Date.now()): Promise<boolean> {
    const k = tenantKeys(tenant);
    const size = this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const gen = await this.client.incr(k.snapshotGen);
    const chunks = Math.max(1, Math.ceil(bytes.length / size));
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < chunks; i++) {
      await this.client.set(k.snapshotChunk(gen, i), buf.subarray(i * size, (i + 1) * size));
    }
    const flipped = await runScript(
      this.client,
      'flip-snapshot-2',
      [k.snapshotPointer, k.snapshotGen],
      [k.prefix, gen, version, chunks, bytes.length, createdAt, this.options.graceSeconds ?? 120],
    );
    if (Number(flipped) === 1) return true;
    await this.client.del(...Array.from({ length: chunks }, (_, i) => k.snapshotChunk(gen, i)));
    return false;
  }

  /**
   * The current snapshot's bytes, or undefined when there is none. A large one, with a client made by
   * createRedisClient, is read and checked on a worker thread (snapshot-reader.ts): this thread
   * answers calls. adoptSnapshot() (snapshot-handover.ts) turns either into an engine.
   */
  async read(
    tenant: string,
    /** Only a snapshot covering at least this version is of use: an older one is not read at all. */
    atLeast?: string,
    /** The strings of the index in use, packed (packedStringsOf): the thread finds each new one among them. */
    held?: PackedStrings,
  ): Promise<SnapshotRead | undefined> {
    const connection = this.options.readHere ? undefined : connectionOf(this.client);
    if (connection || atLeast !== undefined) {
      const pointer = await this.pointer(tenant);
      if (!pointer) return undefined;
      // A node waiting for a rebuild polls: reading hundreds of MiB only to find them too old is waste.
      if (atLeast !== undefined && compareVersions(pointer.version, atLeast) < 0) return undefined;
      if (connection && pointer.bytes >= READ_IN_THREAD_FROM)
        return readSnapshotInThread(connection, tenant, held);
    }
    const k = tenantKeys(tenant);
    for (let attempt = 0; attempt < 5; attempt++) {
      const pointer = await this.pointer(tenant);
      if (!pointer) return undefined;
      const keys = Array.from({ length: pointer.chunks }, (_, i) => k.snapshotChunk(pointer.gen, i));
      // One round trip; one GET per chunk parses faster than one MGET reply of hundreds of MiB.
      const pipeline = this.client.pipeline();
      for (const key of keys) pipeline.getBuffer(key);
      const parts = ((await pipeline.exec()) ?? []).map(([err, v]) => (err ? null : (v as Buffer | null)));
      // A chunk gone: the pointer moved and the grace period passed meanwhile; read the new pointer.
      if (parts.some((p) => p === null)) continue;
      const bytes = Buffer.concat(parts as Buffer[], pointer.bytes);
      return { bytes, pointer };
    }
    return undefined;
  }
}
