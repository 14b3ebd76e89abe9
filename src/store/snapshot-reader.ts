import { Worker } from 'node:worker_threads';
import { noteVerifiedSnapshot } from '../engine/snapshot-codec.js';
import type { RedisConnection } from './redis-client.js';
import type { SnapshotPointer } from './snapshot-pointer.js';

const THREAD_ENTRY = new URL('../../bin/ts-worker.js', import.meta.url);
const THREAD_MODULE = new URL('./snapshot-reader-thread.ts', import.meta.url).href;

/** Below this many bytes reading and checking take a few milliseconds: a thread would cost more. */
export const READ_IN_THREAD_FROM = 4 * 1024 * 1024;

/** The reader thread's answer. */
export type ReaderReply =
  | { readonly bytes: Uint8Array; readonly pointer: SnapshotPointer; readonly corrupt?: string }
  | { readonly none: true }
  | { readonly error: string };

/**
 * Reads a tenant's cached snapshot on a worker thread with a Redis connection of its own, joins the
 * chunks and checks them (SHA-256 and every structural invariant: a full decode), then moves the
 * bytes to this thread without a copy. Nothing of the hundreds of MiB passes through this thread's
 * socket, parser or garbage collector, and no checksum runs here: at 10M rules that is seconds of
 * work and GC pauses kept off the event loop that answers calls. Checked bytes are noted, so
 * decodeSnapshot() of them only builds views; bytes that failed come back unnoted, and
 * decodeSnapshot() then throws the same CG_ERR_SNAPSHOT_CORRUPT as ever.
 */
export function readSnapshotInThread(
  connection: RedisConnection,
  tenant: string,
): Promise<{ bytes: Buffer; pointer: SnapshotPointer } | undefined> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, { workerData: { module: THREAD_MODULE, connection, tenant } });
    let done = false;
    worker.once('message', (m: ReaderReply) => {
      done = true;
      if ('error' in m) return reject(new Error(`snapshot reader thread: ${m.error}`));
      if ('none' in m) return resolve(undefined);
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      if (m.corrupt === undefined) noteVerifiedSnapshot(bytes);
      resolve({ bytes, pointer: m.pointer });
    });
    worker.once('error', (error) => {
      done = true;
      reject(new Error(`snapshot reader thread: ${error.message}`));
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`snapshot reader thread exited with code ${code} before it answered`));
    });
  });
}
