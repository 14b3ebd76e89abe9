import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { apiDepsOver } from '../src/api/api-deps.js';
import { buildApiApp } from '../src/api/app.js';
import { silentLogger } from '../src/log.js';
import { createRedisClient } from '../src/store/redis-client.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import type { RuleDraft } from '../src/store/rule-repository.js';
import { SyncRegistry } from '../src/store/sync-registry.js';

/**
 * The admin API over loopback, server in a child process (one core), autocannon in this one:
 *
 *   npm run bench -- api [--seconds 10] [--rounds 5] [--connections 32] [--rules 100000] [--screens 7]
 *
 * `--server-cpu-prof` writes a CPU profile of the server process to the temp folder.
 * `--seconds` is split over `--rounds` alternating rounds of the ceiling and check (medians reported).
 * JSON lines: a bare Fastify route returning a constant (the ceiling), POST /v1/check, POST /v1/screen
 * with 100,000 numbers (wall time of the whole request as the client sees it), and POST /v1/rules (rule
 * creation, each request a new number; last, so that its rules do not weigh on the others).
 * Bars: check >= 60% of the ceiling; screen <= 300 ms.
 */
const CHECK_RATIO_BAR = 0.6;
const SCREEN_BAR_MS = 300;
const TENANT = 'bench';

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

const numberOf = (i: number): string => String(15_550_000_000 + i * 7);

/** The server side: private Redis, the API with `rules` rules, and the bare route on its own port. */
async function child(args: string[]): Promise<void> {
  const rules = Number(flag(args, 'rules', '100000'));
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-api-'));
  const redis = await RedisProcess.start({ dir, port: await freePort(), appendfsync: 'everysec' });
  const client = createRedisClient({ url: redis.url, redisOptions: { enableAutoPipelining: true } });
  const store = { streamMaxLen: 100_000, snapshotEvery: 10_000 };
  const registry = new SyncRegistry({ client, log: silentLogger, store });
  const deps = apiDepsOver({ config: {}, client, registry, log: silentLogger, store });
  await deps.tenants.create(TENANT);
  const { key } = await deps.keys.create(TENANT, { role: 'tenant_admin' });
  await deps.catalog.putGroup(TENANT, { id: 'dnc', name: 'DNC' });
  await deps.catalog.putType(TENANT, {
    id: 'wrap',
    name: 'Wrap',
    operation: 'auto_wrap_up',
    businessResult: 'DNC',
  });
  await deps.catalog.bind(TENANT, 'camp', ['dnc']);
  const drafts: RuleDraft[] = [];
  for (let i = 0; i < rules; i++) {
    drafts.push({
      called: numberOf(i),
      direction: 'outbound',
      action: 'block',
      groupId: 'dnc',
      typeId: 'wrap',
      ou: 'sales',
      remarks: 'bench',
    });
  }
  drafts.push({ called: '_1404!', direction: 'both', action: 'block' });
  await deps.rules.writeMany(TENANT, drafts, { duplicates: 'skip' });
  const version = await deps.rules.publishReload(TENANT);
  await registry.ensure(TENANT).waitFor(version, 120_000);
  const app = await buildApiApp(deps, { docs: false });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const bare = Fastify();
  bare.post('/bare', async () => ({ action: 'allow', why: 'constant' }));
  // CPU time of the server process, so that a round's cost per request can be told apart from the
  // other load on a shared machine.
  bare.get('/cpu', async () => process.cpuUsage());
  const bareAddress = await bare.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ address, bareAddress, key, rules })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
  await bare.close();
  await app.close();
  await registry.stop();
  client.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

interface Load {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: (i: number) => string;
}

async function serverCpuMicros(cpuUrl: string): Promise<number> {
  const u = (await (await fetch(cpuUrl)).json()) as { user: number; system: number };
  return u.user + u.system;
}

async function cannon(load: Load, seconds: number, connections: number, cpuUrl?: string) {
  let i = 0;
  const cpu0 = cpuUrl ? await serverCpuMicros(cpuUrl) : 0;
  const result = await autocannon({
    url: load.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...load.headers },
        setupRequest: (req) => ({ ...req, body: load.body(i++) }),
      },
    ],
  });
  const cpu = cpuUrl ? (await serverCpuMicros(cpuUrl)) - cpu0 : 0;
  return {
    bench: 'api',
    name: load.name,
    rps: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    server_cpu_us_per_request: cpuUrl
      ? Number((cpu / Math.max(1, result.requests.total)).toFixed(1))
      : undefined,
    seconds,
    connections,
  };
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--child')) return child(args);
  const seconds = Number(flag(args, 'seconds', '10'));
  const connections = Number(flag(args, 'connections', '32'));
  const rules = flag(args, 'rules', '100000');
  const screens = Number(flag(args, 'screens', '7'));
  const rounds = Number(flag(args, 'rounds', '5'));
  const self = fileURLToPath(import.meta.url);
  const profile = args.includes('--server-cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${tmpdir()}`] : [];
  const server = spawn(process.execPath, [...profile, '--import', 'tsx', self, '--child', '--rules', rules], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: server.stdout! });
      lines.once('line', resolve);
      server.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    });
    const info = JSON.parse(first) as { address: string; bareAddress: string; key: string; rules: number };
    const auth = { authorization: `Bearer ${info.key}` };
    const checkBody = (i: number) =>
      JSON.stringify({ called: numberOf((i * 31) % (info.rules * 2)), direction: 'outbound', task: 'camp' });

    // Warm-up, then the ceiling and check in alternating rounds (the machine is shared: alternating
    // spreads other load over both); each figure is the median round.
    const warm = Math.max(1, Math.round(seconds / 5));
    await cannon(
      { name: 'warmup', url: `${info.bareAddress}/bare`, headers: {}, body: checkBody },
      warm,
      connections,
    );
    await cannon(
      { name: 'warmup', url: `${info.address}/v1/check`, headers: auth, body: checkBody },
      warm,
      connections,
    );
    const cpuUrl = `${info.bareAddress}/cpu`;
    const bareRounds: Array<Awaited<ReturnType<typeof cannon>>> = [];
    const checkRounds: Array<Awaited<ReturnType<typeof cannon>>> = [];
    const slice = Math.max(1, Math.round(seconds / rounds));
    for (let r = 0; r < rounds; r++) {
      bareRounds.push(
        await cannon(
          { name: 'bare_fastify_constant', url: `${info.bareAddress}/bare`, headers: {}, body: checkBody },
          slice,
          connections,
          cpuUrl,
        ),
      );
      checkRounds.push(
        await cannon(
          { name: 'check', url: `${info.address}/v1/check`, headers: auth, body: checkBody },
          slice,
          connections,
          cpuUrl,
        ),
      );
    }
    const medianOf = <T extends { rps: number }>(xs: T[]): T =>
      [...xs].sort((a, b) => a.rps - b.rps)[xs.length >> 1]!;
    const bare = { ...medianOf(bareRounds), rounds, rounds_rps: bareRounds.map((x) => x.rps) };
    const check = { ...medianOf(checkRounds), rounds, rounds_rps: checkRounds.map((x) => x.rps) };
    console.log(JSON.stringify(bare));
    const ratio = check.rps / bare.rps;
    // The same comparison by server CPU per request (median rounds), which other load on the machine
    // moves much less: the check rate a core reaches relative to the ceiling's.
    const cpuMedian = (xs: Array<{ server_cpu_us_per_request?: number }>) =>
      xs.map((x) => x.server_cpu_us_per_request ?? 0).sort((a, b) => a - b)[xs.length >> 1]!;
    const cpuRatio = cpuMedian(bareRounds) / cpuMedian(checkRounds);
    console.log(
      JSON.stringify({
        ...check,
        ratio_to_bare: Number(ratio.toFixed(3)),
        cpu_ratio_to_bare: Number(cpuRatio.toFixed(3)),
        bar: CHECK_RATIO_BAR,
        pass: ratio >= CHECK_RATIO_BAR,
      }),
    );

    const numbers = Array.from({ length: 100_000 }, (_, i) => numberOf(i * 2));
    const body = JSON.stringify({ taskId: 'camp', numbers });
    const times: number[] = [];
    let blocked = 0;
    for (let r = 0; r < screens; r++) {
      const t0 = performance.now();
      const res = await fetch(`${info.address}/v1/screen`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body,
      });
      const json = (await res.json()) as { blocked: number };
      times.push(performance.now() - t0);
      blocked = json.blocked;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      JSON.stringify({
        bench: 'api',
        name: 'screen_100k',
        numbers: numbers.length,
        blocked,
        median_ms: Math.round(median),
        min_ms: Math.round(times[0]!),
        max_ms: Math.round(times[times.length - 1]!),
        runs: screens,
        bar_ms: SCREEN_BAR_MS,
        pass: median <= SCREEN_BAR_MS,
      }),
    );
    // Last: the rules it adds (and the snapshot rebuild they may trigger) must not weigh on the others.
    const create = await cannon(
      {
        name: 'rule_create',
        url: `${info.address}/v1/rules?duplicates=skip`,
        headers: auth,
        body: (i) =>
          JSON.stringify({ called: String(19_000_000_000 + i), direction: 'outbound', action: 'block' }),
      },
      seconds,
      connections,
    );
    console.log(JSON.stringify(create));
  } finally {
    server.stdin?.end();
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
