/** The worker-thread side of joinVerified (snapshot-verifier.ts). */
import { parentPort } from 'node:worker_threads';
import { decodeSnapshot } from '../engine/snapshot-codec.js';

parentPort!.once('message', ({ parts, totalBytes }: { parts: Uint8Array[]; totalBytes: number }) => {
  // Offset 0 of a buffer of its own: 8-byte aligned, as decodeSnapshot's views need.
  const bytes = new Uint8Array(totalBytes);
  let at = 0;
  for (const p of parts) {
    bytes.set(p.subarray(0, totalBytes - at), at);
    at += p.byteLength;
  }
  let error: string | undefined;
  try {
    decodeSnapshot(bytes);
  } catch (e) {
    error = (e as Error).message;
  }
  parentPort!.postMessage({ bytes, error }, [bytes.buffer]);
  parentPort!.close();
});
