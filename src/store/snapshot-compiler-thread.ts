/** The worker-thread side of compileSnapshotInThread (snapshot-compiler.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { createRedisClient } from './redis-client.js';
import { type CompilerConnection, compileSnapshot } from './snapshot-compiler.js';

const { connection, tenant } = workerData as { connection: CompilerConnection; tenant: string };
// A build that cannot reach Redis fails after a few tries (the node retries the build later).
const client = createRedisClient({
  url: connection.url,
  cluster: connection.cluster,
  redisOptions: { maxRetriesPerRequest: 3 },
});
try {
  const { bytes, version, params } = await compileSnapshot(client, tenant);
  parentPort!.postMessage({ bytes, version, params }, [bytes.buffer as ArrayBuffer]);
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
} finally {
  client.disconnect();
}
