import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/store/redis-process.js';
import { CLUSTER_BUS_OFFSET, freeClusterPort, skipWithoutLocalRedis } from '../support/redis-server.js';

async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  // A port taken since it was picked fails this test, not the test process.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

describe.skipIf(skipWithoutLocalRedis)('redis-server processes', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it('a cluster node is given no port whose bus port (port + 10000) is out of range or taken', async () => {
    const taken = await freeClusterPort();
    const busHolder = await holdPort(taken + CLUSTER_BUS_OFFSET);
    cleanups.push(() => busHolder.close());
    const good = await freeClusterPort();
    const offered = [60_000, taken, good];
    expect(await freeClusterPort(async () => offered.shift() as number)).toBe(good);
  });

  it("a redis-server that exits at start says redis-server's own reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-redis-refused-'));
    const port = await freeClusterPort();
    const busHolder = await holdPort(port + CLUSTER_BUS_OFFSET);
    cleanups.push(() => {
      busHolder.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const start = RedisProcess.start({ dir, port, cluster: true, appendonly: false });
    await expect(start).rejects.toThrow(/exited at start: .*Address already in use/);
  });
});
