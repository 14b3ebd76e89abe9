import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * Starting and stopping a private redis-server: the embedded Redis of `callguard serve` and the test
 * harness share this. The listpack/intset limits are the ones the store's memory layout is sized for
 * (docs/DECISIONS.md, "Rule storage layout").
 */
export const LAYOUT_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['hash-max-listpack-entries', '256'],
  ['hash-max-listpack-value', '512'],
  ['set-max-intset-entries', '512'],
];

export interface RedisProcessOptions {
  readonly dir: string;
  readonly port: number;
  readonly host?: string;
  /** AOF persistence (default on). */
  readonly appendonly?: boolean;
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  readonly cluster?: boolean;
  readonly extraArgs?: readonly string[];
  readonly binary?: string;
}

/** The redis-server on PATH, or undefined when none is installed. */
export function findRedisServer(name = 'redis-server'): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when the server answers PING with PONG (not LOADING) within timeoutMs. */
export function ping(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly options: RedisProcessOptions & { host: string; binary: string }) {}

  static async start(options: RedisProcessOptions): Promise<RedisProcess> {
    const binary = options.binary ?? findRedisServer();
    if (!binary) throw new Error('redis-server is not installed');
    const p = new RedisProcess({ host: '127.0.0.1', ...options, binary });
    await p.spawn();
    return p;
  }

  get host(): string {
    return this.options.host;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `redis://${this.options.host}:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private args(): string[] {
    const o = this.options;
    const args = [
      '--port',
      String(o.port),
      '--bind',
      o.host,
      '--dir',
      o.dir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--logfile',
      'redis.log',
      '--appendonly',
      o.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      o.appendfsync ?? 'everysec',
    ];
    for (const [name, value] of LAYOUT_SETTINGS) args.push(`--${name}`, value);
    if (o.cluster)
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
      );
    args.push(...(o.extraArgs ?? []));
    return args;
  }

  private async spawn(): Promise<void> {
    const child = spawn(this.options.binary, this.args(), { cwd: this.options.dir, stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (gone)
        throw new Error(`redis-server exited at start: ${this.lastLogWarning()} (log: ${this.logPath})`);
      if (await ping(this.options.host, this.options.port)) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${this.options.port} within 20 s`);
  }

  private get logPath(): string {
    return join(this.options.dir, 'redis.log');
  }

  /** redis-server's last two warning lines ('#'): why it would not start. */
  private lastLogWarning(): string {
    let log = '';
    try {
      log = readFileSync(this.logPath, 'utf8');
    } catch {
      return 'it wrote no log';
    }
    const warnings = log.split('\n').filter((line) => / # /.test(line));
    const reason = warnings.slice(-2).map((line) => line.replace(/^.*? # /, ''));
    return reason.length > 0 ? reason.join('; ') : 'its log names no reason';
  }

  /** SIGKILL: no shutdown save, like a crash. */
  async kill9(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** Starts again on the same port and folder (after kill9 or stop). */
  async restart(): Promise<void> {
    if (this.child) await this.stop();
    await this.spawn();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 10_000);
    });
    const outcome = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.child = undefined;
  }
}
