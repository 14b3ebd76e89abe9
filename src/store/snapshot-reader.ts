import { Worker } from 'node:worker_threads';
import type { RedisConnection } from './redis-client.js';
import type { PackedStrings, SnapshotHandover } from './snapshot-handover.js';
import type { SnapshotRead } from './snapshot-pointer.js';

const THREAD_ENTRY = new URL('../../bin/ts-worker.js', import.meta.url);
const THREAD_MODULE = new URL('./snapshot-reader-thread.ts', import.meta.url).href;

/** Below this many bytes reading and checking take a few milliseconds: a thread would cost more. */
export const READ_IN_THREAD_FROM = 4 * 1024 * 1024;

/** The reader thread's answer. */
export type ReaderReply =
  | (SnapshotRead & { readonly handover: SnapshotHandover })
  | { readonly none: true }
  | { readonly error: string };

/**
 * Reads a tenant's cached snapshot on a worker thread with a Redis connection of its own, joins the
 * chunks and decodes them with every check (SHA-256, the header's JSON and schema, every structural
 * invariant), then moves the bytes to this thread without a copy, with the parsed header and its
 * strings packed for adoptSnapshot() (snapshot-handover.ts). Nothing of the hundreds of MiB passes
 * through this thread's socket, parser or garbage collector, and neither the checksum nor the
 * header's JSON runs here: at 10M rules that is seconds of work, and a 2 MB JSON parse with its
 * garbage collections, kept off the event loop that answers calls. Bytes that failed come back with
 * the reason, and adoptSnapshot() throws the same CG_ERR_SNAPSHOT_CORRUPT as a decode here would.
 */
export function readSnapshotInThread(
  connection: RedisConnection,
  tenant: string,
  held?: PackedStrings,
): Promise<SnapshotRead | undefined> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, {
      workerData: { module: THREAD_MODULE, connection, tenant, held },
    });
    let done = false;
    worker.once('message', (m: ReaderReply) => {
      done = true;
      if ('error' in m) return reject(new Error(`snapshot reader thread: ${m.error}`));
      if ('none' in m) return resolve(undefined);
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      resolve({ bytes, pointer: m.pointer, handover: m.handover });
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
