import { Worker } from 'node:worker_threads';
import { noteVerifiedSnapshot } from '../engine/snapshot-codec.js';

const THREAD_ENTRY = new URL('../../bin/ts-worker.js', import.meta.url);
const THREAD_MODULE = new URL('./snapshot-verifier-thread.ts', import.meta.url).href;

/** Below this many bytes the checks take a few milliseconds: a thread would cost more than it saves. */
export const VERIFY_IN_THREAD_FROM = 4 * 1024 * 1024;

/** The verifier thread's answer: the joined bytes (transferred back) and what was wrong, if anything. */
export interface VerifierReply {
  readonly bytes: Uint8Array;
  readonly error?: string;
}

/** Whether `part` owns its whole ArrayBuffer (so it can be moved to the thread rather than copied). */
const ownsBuffer = (part: Uint8Array) =>
  part.byteOffset === 0 && part.byteLength === part.buffer.byteLength && part.buffer instanceof ArrayBuffer;

/**
 * Joins a snapshot's chunks as read from Redis into one buffer and checks it (checksum, structure)
 * on a worker thread, so that the thread answering calls spends no time on either (about a second
 * at 10M rules). The chunks move to the thread and the joined bytes come back, both without a
 * copy. Bytes that pass are noted, so decodeSnapshot() of them only builds views; bytes that fail
 * come back unnoted, and decodeSnapshot() then throws the same CG_ERR_SNAPSHOT_CORRUPT as ever.
 * Small snapshots are joined here: their checks are quick.
 */
export async function joinVerified(parts: readonly Buffer[], totalBytes: number): Promise<Buffer> {
  if (totalBytes < VERIFY_IN_THREAD_FROM) return Buffer.concat(parts, totalBytes);
  const reply = await verifyInThread(parts, totalBytes);
  const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
  if (reply.error === undefined) noteVerifiedSnapshot(bytes);
  return bytes;
}

function verifyInThread(parts: readonly Buffer[], totalBytes: number): Promise<VerifierReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, { workerData: { module: THREAD_MODULE } });
    let done = false;
    worker.once('message', (m: VerifierReply) => {
      done = true;
      resolve(m);
    });
    worker.once('error', (error) => {
      done = true;
      reject(new Error(`snapshot verify thread: ${error.message}`));
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`snapshot verify thread exited with code ${code} before it answered`));
    });
    const views = parts.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    const movable = [...new Set(views.filter(ownsBuffer).map((v) => v.buffer as ArrayBuffer))];
    try {
      worker.postMessage({ parts: views, totalBytes }, movable);
    } catch {
      // A buffer the runtime will not move (a pooled one): send copies instead.
      worker.postMessage({ parts: views.map((v) => v.slice()), totalBytes });
    }
  });
}
