import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/store/redis-process.js';
import { bindable, freeClusterPort, skipWithoutLocalRedis } from '../support/redis-server.js';

const CLUSTER_BUS_OFFSET = 10_000;

describe.skipIf(skipWithoutLocalRedis)('redis-server processes', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it('a port picked for a cluster node leaves room for its bus port (port + 10000), and that port is free', async () => {
    for (let i = 0; i < 200; i++) {
      const port = await freeClusterPort();
      expect(port + CLUSTER_BUS_OFFSET).toBeLessThanOrEqual(65_535);
      expect(await bindable(port + CLUSTER_BUS_OFFSET)).toBe(true);
    }
  });

  it("a redis-server that exits at start says redis-server's own reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-redis-refused-'));
    const port = await freeClusterPort();
    const busHolder: Server = createServer();
    await new Promise<void>((resolve) => busHolder.listen(port + CLUSTER_BUS_OFFSET, '127.0.0.1', resolve));
    cleanups.push(() => {
      busHolder.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const start = RedisProcess.start({ dir, port, cluster: true, appendonly: false });
    await expect(start).rejects.toThrow(/exited at start: .*Address already in use/);
  });
});
