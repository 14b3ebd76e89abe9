import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { quietErrors } from '../../src/store/redis-client.js';
import { findRedisServer, freePort, RedisProcess } from '../../src/store/redis-process.js';

/**
 * Real Redis for tests, never a mock. With REDIS_URL set, that server is used and isolated by
 * unique tenant names (nothing is flushed); otherwise a private redis-server runs on a free loopback
 * port in a temporary folder. Call stop() in an `after` hook: it ends the process and removes the folder.
 */
export interface TestRedis {
  readonly url: string;
  /** True when REDIS_URL pointed at an outside server: kill9/restart are not available. */
  readonly external: boolean;
  /** A client; closed by stop(). */
  client(): Redis;
  /** A tenant id no other test uses. */
  tenant(label?: string): string;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const redisServerBinary = findRedisServer();
/** Pass as `skip` to describe/it: a reason when no Redis can be had, false otherwise. */
export const skipWithoutRedis: string | false =
  process.env.REDIS_URL || redisServerBinary
    ? false
    : 'redis-server is not installed and REDIS_URL is not set';
export const skipWithoutLocalRedis: string | false = redisServerBinary
  ? false
  : 'redis-server is not installed (needed to start, kill and restart a private server)';

let tenantCounter = 0;
const runId = randomBytes(3).toString('hex');
export const uniqueTenant = (label = 't'): string => `${label}-${runId}-${++tenantCounter}`;

export interface StartOptions {
  /** Force a private server even when REDIS_URL is set (fault tests need to kill it). */
  readonly private?: boolean;
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  readonly extraArgs?: readonly string[];
}

export async function startRedis(options: StartOptions = {}): Promise<TestRedis> {
  const clients: Redis[] = [];
  const newClient = (url: string) => {
    const c = quietErrors(
      new Redis(url, { maxRetriesPerRequest: 3, retryStrategy: (n) => Math.min(n * 50, 500) }),
    );
    clients.push(c);
    return c;
  };
  const closeClients = () => {
    for (const c of clients.splice(0)) c.disconnect();
  };
  const external = process.env.REDIS_URL;
  if (external && !options.private) {
    return {
      url: external,
      external: true,
      client: () => newClient(external),
      tenant: uniqueTenant,
      kill9: () => Promise.reject(new Error('kill9 needs a private redis-server')),
      restart: () => Promise.reject(new Error('restart needs a private redis-server')),
      stop: async () => closeClients(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'cg-redis-'));
  try {
    const proc = await RedisProcess.start({
      dir,
      port: await freePort(),
      appendfsync: options.appendfsync ?? 'always',
      extraArgs: options.extraArgs,
    });
    return {
      url: proc.url,
      external: false,
      client: () => newClient(proc.url),
      tenant: uniqueTenant,
      kill9: () => proc.kill9(),
      restart: () => proc.restart(),
      stop: async () => {
        closeClients();
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface TestCluster {
  /** A seed node URL (any master). */
  readonly url: string;
  readonly ports: readonly number[];
  client(): Cluster;
  tenant(label?: string): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cluster node also listens on its bus port, its port + 10000, which must be a port too. */
export const CLUSTER_BUS_OFFSET = 10_000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port whose bus port (port + 10000) is in range and free too, from the ports `pick`
 * offers (free ones by default).
 */
export async function freeClusterPort(pick: () => Promise<number> = freePort): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await pick();
    if (port + CLUSTER_BUS_OFFSET <= 65_535 && (await bindable(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error('found no free port pair (port, port + 10000) in 100 tries');
}

/** Another process can take a port between the pick and the bind: a node gets three tries. */
async function startClusterNode(dir: string): Promise<RedisProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await RedisProcess.start({
        dir,
        port: await freeClusterPort(),
        cluster: true,
        appendonly: false,
      });
    } catch (error) {
      if (attempt === 3) throw error;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    }
  }
}

/** A cluster of `masters` masters on loopback, no replicas, ready (cluster_state:ok) when it resolves. */
export async function startRedisCluster(masters = 3): Promise<TestCluster> {
  const root = mkdtempSync(join(tmpdir(), 'cg-cluster-'));
  const procs: RedisProcess[] = [];
  const clients: Cluster[] = [];
  const stop = async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const dir = join(root, `n${i}`);
      mkdirSync(dir);
      procs.push(await startClusterNode(dir));
    }
    await promisify(execFile)(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...procs.map((p) => `127.0.0.1:${p.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 30_000;
    for (const p of procs) {
      const c = new Redis(p.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await c.connect();
        while (!(await c.cluster('INFO')).includes('cluster_state:ok')) {
          if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok within 30 s');
          await sleep(100);
        }
      } finally {
        c.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `redis://127.0.0.1:${procs[0]!.port}`;
  return {
    url,
    ports: procs.map((p) => p.port),
    client: () => {
      const c = new Cluster(
        procs.map((p) => ({ host: '127.0.0.1', port: p.port })),
        { redisOptions: { maxRetriesPerRequest: 3 } },
      );
      clients.push(quietErrors(c));
      return c;
    },
    tenant: uniqueTenant,
    stop,
  };
}
