/**
 * Pop-ups and wrap-ups where people feel them: at a webhook receiver and at agents' SSE clients,
 * with the roles in their own processes as `callguard serve` runs them: `--roles api,worker` in one
 * child process, `--roles ari` in another (the call node), a private redis-server, and the ARI
 * double placing calls (half of them blocked by a Pop Up or an Auto Wrap Up rule).
 *
 *   npm run bench -- notify delivery [--rates 20,200] [--seconds 15] [--outage 30] [--agents 20] [--warmup 5]
 *   npm run bench -- notify streams [--count 10000]
 *
 * `delivery` prints one JSON line per rate and receiver kind (webhook, sse): p50/p99/max from the
 * decision time carried in the event (`data.at`) to receipt, and from the call's placement on the
 * double, duplicates and lost; then an outage line: the receiver (and every SSE client) away for
 * `--outage` seconds while calls go on at the first rate; every event must arrive, in order per agent,
 * within 5 s of the return. `streams` opens `--count` SSE streams on one API process and prints its
 * memory per stream and the time one event takes to reach them all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INPUT_VARIABLES } from '../src/pbx/asterisk/ari-call-reader.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { openSse, type SseConnection, type SseFrame } from '../test/notify/sse-client.js';
import { AriDouble, type DoubleCall } from '../test/pbx/asterisk/ari-double.js';
import { paceCalls, percentile } from '../test/pbx/load-pacing.js';
import { flag } from './pbx-bench-kit.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TENANT = 'bench';
const SECRET = 'bench-webhook-secret-0123456789';
const POPUP_PREFIX = '1800555';
const WRAP_PREFIX = '1404526';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 10) / 10;

interface Serve {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `callguard serve --roles <roles>` as a child process. */
function serve(roles: string, env: Record<string, string>): Serve {
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-bench-notify-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--roles', roles], {
    cwd: REPO,
    env: {
      ...process.env,
      CALLGUARD_DATA_DIR: dataDir,
      CALLGUARD_EMBEDDED_REDIS: 'never',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-10_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(url: string, s: Serve): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (s.child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`callguard serve did not start:\n${s.output()}`);
}

function api(url: string, key: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** What a receiver (webhook or SSE) saw of one event. */
interface Receipt {
  readonly eventId: string;
  readonly callId: string;
  readonly agent: string;
  /** The webhook receiver's path (one per receiver: /desk, /campaign); '' for the SSE clients. */
  readonly receiver: string;
  /** Decision time (data.at), epoch ms. */
  readonly at: number;
  readonly receivedAt: number;
}

function receiptOf(body: string, receivedAt: number, receiver = ''): Receipt | undefined {
  try {
    const e = JSON.parse(body) as { id: string; data: { callId?: string; agent?: string; at?: string } };
    if (!e.data?.callId || !e.data.at) return undefined;
    return {
      eventId: e.id,
      callId: e.data.callId,
      agent: e.data.agent ?? '',
      receiver,
      at: Date.parse(e.data.at),
      receivedAt,
    };
  } catch {
    return undefined;
  }
}

/** A webhook receiver that never blocks: it records the body and answers 200 at once (or drops the connection while "down"). */
class Receiver {
  readonly receipts: Receipt[] = [];
  down = false;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const receivedAt = Date.now();
        res.writeHead(200).end();
        const r = receiptOf(Buffer.concat(chunks).toString('utf8'), receivedAt, req.url ?? '');
        if (r) this.receipts.push(r);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** One SSE client per agent (admin key), reconnecting with Last-Event-ID on demand. */
class SseAgents {
  readonly receipts: Receipt[] = [];
  private readonly conns = new Map<string, SseConnection>();
  private readonly lastIds = new Map<string, string>();

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly agents: readonly string[],
  ) {}

  async connect(): Promise<void> {
    await Promise.all(
      this.agents.map(async (agent) => {
        const last = this.lastIds.get(agent);
        const onFrame = (f: SseFrame) => {
          if (f.id === undefined || f.data === undefined) return;
          this.lastIds.set(agent, f.id);
          const r = receiptOf(f.data, f.at);
          if (r) this.receipts.push(r);
        };
        const c = await openSse(
          `${this.url}/v1/agents/${agent}/events`,
          { authorization: `Bearer ${this.key}`, ...(last ? { 'last-event-id': last } : {}) },
          onFrame,
        );
        if (c.status !== 200) throw new Error(`SSE for ${agent}: ${c.status}`);
        this.conns.set(agent, c);
      }),
    );
  }

  disconnect(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}

interface Placed {
  readonly callId: string;
  readonly agent: string;
  readonly placedAt: number;
  /** An event is expected (the call was decided by a Pop Up or Auto Wrap Up rule). */
  event: boolean;
}

function figures(
  kind: string,
  receipts: readonly Receipt[],
  placed: ReadonlyMap<string, Placed>,
  expected: number,
) {
  const seen = new Set<string>();
  let duplicates = 0;
  const fromDecision: number[] = [];
  const fromPlacement: number[] = [];
  for (const r of receipts) {
    const p = placed.get(r.callId);
    if (!p) continue;
    if (seen.has(r.eventId)) {
      duplicates++;
      continue;
    }
    seen.add(r.eventId);
    fromDecision.push(r.receivedAt - r.at);
    fromPlacement.push(r.receivedAt - p.placedAt);
  }
  fromDecision.sort((a, b) => a - b);
  fromPlacement.sort((a, b) => a - b);
  return {
    receiver: kind,
    events: expected,
    received: seen.size,
    duplicates,
    lost: expected - seen.size,
    p50Ms: round(percentile(fromDecision, 50)),
    p99Ms: round(percentile(fromDecision, 99)),
    maxMs: round(fromDecision.at(-1) ?? Number.NaN),
    fromPlacementP50Ms: round(percentile(fromPlacement, 50)),
    fromPlacementP99Ms: round(percentile(fromPlacement, 99)),
  };
}

/**
 * Arrivals out of decision order, per agent at each receiver (first receipt of each event): what a
 * receiver can see. `acrossReceivers`: per agent over both webhook receivers together (the desk gets
 * the pop-ups, the campaign engine the wrap-ups; no receiver sees the other's), for information.
 */
function inversions(
  receipts: readonly Receipt[],
  placed: ReadonlyMap<string, Placed>,
  acrossReceivers = false,
): number {
  const seen = new Set<string>();
  const lastAt = new Map<string, number>();
  let n = 0;
  for (const r of receipts) {
    if (!placed.has(r.callId) || seen.has(r.eventId)) continue;
    seen.add(r.eventId);
    const key = acrossReceivers ? r.agent : `${r.receiver} ${r.agent}`;
    if (r.at < (lastAt.get(key) ?? 0)) n++;
    lastAt.set(key, Math.max(r.at, lastAt.get(key) ?? 0));
  }
  return n;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function setup(agentsCount: number) {
  const redis = await RedisProcess.start({
    dir: mkdtempSync(join(tmpdir(), 'cg-bench-redis-')),
    port: await freePort(),
    appendfsync: 'everysec',
  });
  const redisUrl = redis.url;
  const receiver = new Receiver();
  await receiver.start();
  const double = new AriDouble({ channelvars: [...INPUT_VARIABLES] });
  const ariUrl = await double.start();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const systemKey = `sys-${randomBytes(16).toString('hex')}`;
  const common = {
    REDIS_URL: redisUrl,
    CALLGUARD_SECRET_KEY: randomBytes(32).toString('base64'),
    CALLGUARD_SYSTEM_KEY: systemKey,
  };
  const apiNode = serve('api,worker', {
    ...common,
    CALLGUARD_HTTP_HOST: '127.0.0.1',
    CALLGUARD_HTTP_PORT: String(port),
  });
  const callNode = serve('ari', { ...common, ARI_URL: ariUrl, ARI_USERNAME: 'test', ARI_PASSWORD: 'test' });
  await waitHealthy(url, apiNode);
  const system = api(url, systemKey);
  await system('POST', '/v1/tenants', { id: TENANT });
  const adminKey = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, {})).key;
  const admin = api(url, adminKey);
  // The receiver is on loopback: allowing private targets is the operator's switch (system key).
  await system('PATCH', `/v1/tenants/${TENANT}/params`, { allowPrivateWebhookTargets: true });
  await admin('PATCH', '/v1/params', {
    webhooks: { agentDesktopUrl: receiver.url('/desk'), campaignEngineUrl: receiver.url('/campaign') },
    webhookSecret: SECRET,
  });
  await admin('PUT', '/v1/types/pop', {
    name: 'pop',
    operation: 'pop_up',
    promptContent: 'Do not call',
    jumpAddress: 'https://crm.example/x',
  });
  await admin('PUT', '/v1/types/wrap', { name: 'wrap', operation: 'auto_wrap_up', businessResult: 'DNC' });
  await admin('POST', '/v1/rules', { called: `_${POPUP_PREFIX}!`, direction: 'outbound', typeId: 'pop' });
  await admin('POST', '/v1/rules', { called: `_${WRAP_PREFIX}!`, direction: 'outbound', typeId: 'wrap' });
  await double.waitForApp(60_000);
  const agents = Array.from({ length: agentsCount }, (_, i) => `agent-${i}`);
  return { redis, receiver, double, url, adminKey, agents, apiNode, callNode };
}

export async function delivery(args: string[]): Promise<void> {
  const rates = flag(args, 'rates', '20,200').split(',').map(Number);
  const seconds = Number(flag(args, 'seconds', '15'));
  const outageSeconds = Number(flag(args, 'outage', '30'));
  const warmupSeconds = Number(flag(args, 'warmup', '5'));
  const s = await setup(Number(flag(args, 'agents', '20')));
  const sse = new SseAgents(s.url, s.adminKey, s.agents);
  await sse.connect();
  const placed = new Map<string, Placed>();
  let seq = 0;
  const done: Array<Promise<unknown>> = [];

  const placeOne = () => {
    const i = seq++;
    const agent = s.agents[i % s.agents.length]!;
    // half allowed, a quarter pop-ups, a quarter wrap-ups
    const kind = i % 4;
    const n = String(i).padStart(4, '0').slice(-4);
    const called = kind === 1 ? `${POPUP_PREFIX}${n}` : kind === 3 ? `${WRAP_PREFIX}${n}` : `1312555${n}`;
    const placedAt = Date.now();
    const call = s.double.placeCall({
      called,
      calling: '201',
      args: ['outbound', 'campaign-7'],
      variables: { CALLGUARD_TENANT: TENANT, CALLGUARD_AGENT: agent },
    });
    if (!call) return;
    const p: Placed = { callId: call.id, agent, placedAt, event: false };
    placed.set(call.id, p);
    done.push(
      call.done.then((c: DoubleCall) => {
        p.event = c.setVariables.some(([k]) => k === 'CALLGUARD_OPERATION');
      }),
    );
  };

  // The call node syncs the rules after start: wait until a pop-up call is decided by its rule.
  for (let i = 0; i < 300; i++) {
    const call = s.double.placeCall({
      called: `${POPUP_PREFIX}0000`,
      calling: '201',
      args: ['outbound'],
      variables: { CALLGUARD_TENANT: TENANT, CALLGUARD_AGENT: 'warmup' },
    });
    if (
      call &&
      (await call.done).setVariables.some(([k, v]) => k === 'CALLGUARD_OPERATION' && v === 'pop_up')
    )
      break;
    await sleep(200);
  }

  const measure = async (label: Record<string, unknown>, run: () => Promise<void>, settleMs = 10_000) => {
    placed.clear();
    s.receiver.receipts.length = 0;
    sse.receipts.length = 0;
    done.length = 0;
    const cpu0 = [
      cpuSeconds(s.apiNode.child.pid),
      cpuSeconds(s.callNode.child.pid),
      process.cpuUsage(),
    ] as const;
    const t0 = Date.now();
    await run();
    const wall = (Date.now() - t0) / 1000;
    const self = process.cpuUsage(cpu0[2]);
    // share of one core each process used while calls were placed
    const r2 = (n: number) => Math.round(n * 100) / 100;
    const cores = {
      apiWorker: r2((cpuSeconds(s.apiNode.child.pid) - cpu0[0]) / wall),
      callNode: r2((cpuSeconds(s.callNode.child.pid) - cpu0[1]) / wall),
      benchClients: r2((self.user + self.system) / 1e6 / wall),
    };
    await Promise.all(done);
    const expected = [...placed.values()].filter((p) => p.event).length;
    const deadline = Date.now() + settleMs;
    const count = (rs: readonly Receipt[]) =>
      new Set(rs.filter((r) => placed.has(r.callId)).map((r) => r.eventId)).size;
    while (
      Date.now() < deadline &&
      (count(s.receiver.receipts) < expected || count(sse.receipts) < expected)
    ) {
      await sleep(100);
    }
    return { expected, label, cores };
  };

  try {
    // Warm-up (not measured): JIT, connection pools, the tenant's reader on the API node.
    await paceCalls({ rate: rates[0]!, seconds: warmupSeconds }, () => placeOne());
    await Promise.all(done);
    await sleep(3000);
    for (const rate of rates) {
      const { expected, cores } = await measure({ rate }, async () => {
        await paceCalls({ rate, seconds }, () => placeOne());
      });
      for (const [kind, receipts] of [
        ['webhook', s.receiver.receipts],
        ['sse', sse.receipts],
      ] as const) {
        const f = figures(kind, receipts, placed, expected);
        console.log(
          JSON.stringify({
            bench: 'notify-delivery',
            phase: 'steady',
            rate,
            seconds,
            calls: placed.size,
            ...f,
            inOrderPerAgent: inversions(receipts, placed) === 0,
            cores,
            bar: { p99Ms: 250, pass: f.p99Ms <= 250 && f.lost === 0 && f.duplicates === 0 },
            loadavg: loadavg(),
          }),
        );
      }
    }

    // Outage: the receiver drops every connection and the SSE clients are away; calls go on.
    const rate = rates[0]!;
    let returnedAt = 0;
    const { expected } = await measure(
      { outage: outageSeconds },
      async () => {
        s.receiver.down = true;
        sse.disconnect();
        await paceCalls({ rate, seconds: outageSeconds }, () => placeOne());
        s.receiver.down = false;
        returnedAt = Date.now();
        await sse.connect();
      },
      120_000,
    );
    for (const [kind, receipts] of [
      ['webhook', s.receiver.receipts],
      ['sse', sse.receipts],
    ] as const) {
      const f = figures(kind, receipts, placed, expected);
      const firsts = new Map<string, number>();
      for (const r of receipts)
        if (placed.has(r.callId) && !firsts.has(r.eventId)) firsts.set(r.eventId, r.receivedAt);
      const afterReturn = [...firsts.values()].map((t) => t - returnedAt);
      const lastAfterReturnMs = afterReturn.length ? Math.max(...afterReturn) : Number.NaN;
      console.log(
        JSON.stringify({
          bench: 'notify-delivery',
          phase: 'outage',
          outageSeconds,
          rate,
          calls: placed.size,
          receiver: kind,
          events: expected,
          received: f.received,
          duplicates: f.duplicates,
          lost: f.lost,
          lastArrivalAfterReturnMs: round(lastAfterReturnMs),
          outOfOrderPerAgent: inversions(receipts, placed),
          outOfOrderPerAgentAcrossReceivers: inversions(receipts, placed, true),
          bar: {
            withinMs: 5000,
            pass: f.lost === 0 && lastAfterReturnMs <= 5000 && inversions(receipts, placed) === 0,
          },
          loadavg: loadavg(),
        }),
      );
    }
  } finally {
    sse.disconnect();
    await s.callNode.stop();
    await s.apiNode.stop();
    await s.double.stop();
    await s.receiver.stop();
    await s.redis.stop();
  }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** `--count` SSE streams on one API process (api,worker): its memory per stream and the fan-out time of one event. */
export async function streams(args: string[]): Promise<void> {
  const count = Number(flag(args, 'count', '10000'));
  const s = await setup(1);
  const conns: SseConnection[] = [];
  try {
    const pid = s.apiNode.child.pid!;
    // one stream first, so the tenant's reader and the key cache are in the baseline
    const received: number[] = [];
    const onFrame = (f: SseFrame) => {
      if (f.id !== undefined) received.push(f.at);
    };
    const open = (agent: string) =>
      openSse(`${s.url}/v1/agents/${agent}/events`, { authorization: `Bearer ${s.adminKey}` }, onFrame);
    conns.push(await open('agent-0'));
    await sleep(1000);
    const before = rssKb(pid);
    const started = Date.now();
    for (let i = 1; i < count; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, count - i) }, () => open('agent-0')),
      );
      conns.push(...batch);
    }
    const openedMs = Date.now() - started;
    const refused = conns.filter((c) => c.status !== 200).length;
    await sleep(3000);
    const after = rssKb(pid);
    // one pop-up call for agent-0: every stream gets it
    let placedAt = Date.now();
    for (let i = 0; i < 300; i++) {
      placedAt = Date.now();
      const call = s.double.placeCall({
        called: `${POPUP_PREFIX}0001`,
        calling: '201',
        args: ['outbound'],
        variables: { CALLGUARD_TENANT: TENANT, CALLGUARD_AGENT: 'agent-0' },
      });
      if (
        call &&
        (await call.done).setVariables.some(([k, v]) => k === 'CALLGUARD_OPERATION' && v === 'pop_up')
      )
        break;
      await sleep(200);
    }
    const deadline = Date.now() + 60_000;
    while (received.length < conns.length && Date.now() < deadline) await sleep(20);
    received.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: 'notify-streams',
        streams: conns.length,
        refused,
        openMs: openedMs,
        apiRssBeforeMb: round(before / 1024),
        apiRssAfterMb: round(after / 1024),
        rssPerStreamKb: round((after - before) / (conns.length - 1)),
        eventReached: received.length,
        fanOutFirstMs: round((received[0] ?? Number.NaN) - placedAt),
        fanOutLastMs: round((received.at(-1) ?? Number.NaN) - placedAt),
        loadavg: loadavg(),
      }),
    );
  } finally {
    for (const c of conns) c.close();
    await s.callNode.stop();
    await s.apiNode.stop();
    await s.double.stop();
    await s.receiver.stop();
    await s.redis.stop();
  }
}
