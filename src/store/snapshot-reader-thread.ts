/** The worker-thread side of readSnapshotInThread (snapshot-reader.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { createRedisClient, type RedisConnection } from './redis-client.js';
import { type PackedStrings, prepareHandover } from './snapshot-handover.js';
import { SnapshotStore } from './snapshot-store.js';

const { connection, tenant, held } = workerData as {
  connection: RedisConnection;
  tenant: string;
  held?: PackedStrings;
};
// A read that cannot reach Redis fails after a few tries (the node's sync retries it).
const client = createRedisClient({ ...connection, redisOptions: { maxRetriesPerRequest: 3 } });
try {
  const snap = await new SnapshotStore(client, { readHere: true }).read(tenant);
  if (!snap) {
    parentPort!.postMessage({ none: true });
  } else {
    // Offset 0 of a buffer of its own: aligned for the views, and movable as a whole.
    const bytes = new Uint8Array(snap.bytes.byteLength);
    bytes.set(snap.bytes);
    const handover = prepareHandover(bytes, held);
    const moved: ArrayBuffer[] = [bytes.buffer];
    if ('ends' in handover)
      moved.push(handover.ends.buffer as ArrayBuffer, handover.held.buffer as ArrayBuffer);
    parentPort!.postMessage({ bytes, pointer: snap.pointer, handover }, moved);
  }
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
} finally {
  client.disconnect();
}
