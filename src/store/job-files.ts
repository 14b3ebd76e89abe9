import { Readable, Writable } from 'node:stream';
import { jobKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

const CHUNK = 1024 * 1024;

export interface JobFileInfo {
  readonly size: number;
  readonly chunks: number;
  readonly createdAt: number;
}

/**
 * Files that belong to a job (an uploaded import file, the errors CSV, the export zip), kept in Redis
 * in 1 MiB chunks with a time to live: a worker on one node and an API on another both reach them,
 * and nothing is left on a node's disk. A file is visible only once its meta hash is written, after
 * every chunk, so a reader never sees half a file.
 */
export class JobFileStore {
  constructor(
    private readonly client: RedisClient,
    private readonly ttlSeconds: number,
  ) {}

  /** A stream that stores what is written to it as `name` of the job. */
  writer(tenant: string, jobId: string, name: string): Writable {
    const k = jobKeys(tenant, jobId);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let index = 0;
    let size = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      writing = this.client.set(k.fileChunk(name, index++), data, 'EX', this.ttlSeconds);
      await writing;
    };
    return new Writable({
      highWaterMark: CHUNK,
      write: (chunk: Buffer, _enc, done) => {
        pending.push(chunk);
        pendingBytes += chunk.length;
        size += chunk.length;
        if (pendingBytes < CHUNK) return done();
        flush().then(() => done(), done);
      },
      final: (done) => {
        flush()
          .then(async () => {
            await this.client.hset(k.fileMeta(name), {
              size: String(size),
              chunks: String(index),
              createdAt: String(Date.now()),
            });
            await this.client.expire(k.fileMeta(name), this.ttlSeconds);
          })
          .then(() => done(), done);
      },
      // A failed stream closes once its last chunk is written, so that remove() then finds every chunk.
      destroy: (error, done) => {
        writing.then(
          () => done(error),
          () => done(error),
        );
      },
    });
  }

  async info(tenant: string, jobId: string, name: string): Promise<JobFileInfo | undefined> {
    const h = await this.client.hgetall(jobKeys(tenant, jobId).fileMeta(name));
    if (h.size === undefined) return undefined;
    return { size: Number(h.size), chunks: Number(h.chunks), createdAt: Number(h.createdAt) };
  }

  /** The file's bytes as a stream, a chunk at a time; undefined when there is no such file (or it expired). */
  async reader(tenant: string, jobId: string, name: string): Promise<Readable | undefined> {
    const info = await this.info(tenant, jobId, name);
    if (!info) return undefined;
    const k = jobKeys(tenant, jobId);
    const client = this.client;
    return Readable.from(
      (async function* () {
        for (let i = 0; i < info.chunks; i++) {
          const part = await client.getBuffer(k.fileChunk(name, i));
          if (part === null) throw new Error(`job file ${name} expired while it was read`);
          yield part;
        }
      })(),
      { objectMode: false },
    );
  }

  /** Removes the file, or the chunks stored of one whose writing failed (it has no meta hash). */
  async remove(tenant: string, jobId: string, name: string): Promise<void> {
    const k = jobKeys(tenant, jobId);
    const chunks = (await this.info(tenant, jobId, name))?.chunks ?? 0;
    await this.client.del(k.fileMeta(name));
    // Chunks are numbered from 0 in the order they are written: past the known count, the first
    // missing one is the end.
    for (let i = 0; ; i++) {
      if ((await this.client.del(k.fileChunk(name, i))) === 0 && i >= chunks) return;
    }
  }
}
