import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MemoryEventSink } from '../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../src/call/call-plan.js';
import { CallScreener } from '../src/call/call-screener.js';
import { freeswitchCauseName } from '../src/call/hangup-causes.js';
import { StaticDeciderSource } from '../src/call/static-decider-source.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { createLogger } from '../src/log.js';
import { callFromChannel } from '../src/pbx/freeswitch/channel-call.js';
import { EslInboundClient } from '../src/pbx/freeswitch/esl-inbound-client.js';
import { EslOutboundServer } from '../src/pbx/freeswitch/esl-outbound-server.js';
import {
  ACME,
  CAMPAIGN_TASK,
  CONTRACT_BINDINGS,
  CONTRACT_RULES,
  CONTRACT_TYPES,
} from '../test/pbx/contract/contract-tenants.js';
import type { DoubleCallSpec } from '../test/pbx/freeswitch/esl-double-common.js';
import type { EslLoadReport } from '../test/pbx/freeswitch/esl-load.js';
import { flag, P99_BAR_MS, tenantRules } from './pbx-bench-kit.js';

/**
 * ESL decision latency, measured at the ESL double (its own thread, loopback TCP): from the double
 * writing the channel data (outbound socket mode) or CHANNEL_PARK (inbound mode) to it reading the
 * last command of the outcome (the hangup sendmsg or `exit`; uuid_kill or uuid_transfer).
 *
 *   npm run bench -- esl [--rate 200] [--seconds 10] [--mode both|outbound|inbound]
 *                        [--client own|modesl|modesl-nodelay|all] [--rules 50000]
 *
 * One JSON line per mode and client. Outbound mode: the double runs FreeSWITCH's 20 ms channel tick,
 * so the latency is that of the outcome taking effect; `ticks` counts the ticks per outcome (bar:
 * p99 = 1) and `app` the app's own share (channel data to `exit`, bar p99 <= 5 ms). Inbound mode:
 * bar p99 <= 5 ms at 200 calls/s. No call may be left in the app.
 * `modesl` runs the same outbound calls through drachtio-modesl's esl.Server the way its README shows
 * (execute per variable, then sendmsg hangup), for the comparison in docs/DECISIONS.md.
 */
type Client = 'own' | 'modesl' | 'modesl-nodelay';

/** Wrap-ups (4 variables + hangup), allows (2 variables + continue), anonymous and range blocks. */
function callMix(extra: number): DoubleCallSpec[] {
  const specs: DoubleCallSpec[] = [
    {
      tenant: ACME,
      direction: 'outbound',
      called: '14045266123',
      calling: '201',
      task: CAMPAIGN_TASK,
      agent: 'a-42',
    },
    { tenant: ACME, direction: 'inbound', called: '14045266123', calling: '+14045550123' },
    { tenant: ACME, direction: 'inbound', called: '14045266123', calling: '14045550177' },
    { tenant: ACME, direction: 'inbound', called: '14045266123' },
    { tenant: ACME, direction: 'outbound', called: '13125550100', calling: '201', task: CAMPAIGN_TASK },
  ];
  for (let i = 0; i < 5 && extra > 0; i++) {
    const called = String(12_025_550_000 + ((i * 7919) % extra) * 7);
    specs.push({ tenant: ACME, direction: 'outbound', called, calling: '201', task: CAMPAIGN_TASK });
  }
  return specs;
}

function startWorker(data: unknown): Promise<{ worker: Worker; port?: number }> {
  const entry = new URL('../test/pbx/freeswitch/esl-double-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port?: number }) => resolve({ worker, port: m.port }));
  });
}

function ask<T>(worker: Worker, msg: unknown, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== reply) return;
      worker.off('message', on);
      resolve(m as T);
    };
    worker.on('message', on);
    worker.postMessage(msg);
  });
}

/** The same outcome through drachtio-modesl, written the way its README suggests. */
function modeslOutboundApp(
  screener: CallScreener,
  noDelay: boolean,
): Promise<{ port: number; close(): void }> {
  const require = createRequire(import.meta.url);
  const esl = require('drachtio-modesl') as {
    Server: new (opts: {
      server: Server;
      myevents: boolean;
    }) => {
      on(event: 'connection::ready', cb: (conn: ModeslConnection) => void): void;
    };
  };
  interface ModeslConnection {
    getInfo(): { headers: Array<{ name: string; value: string }> };
    execute(app: string, arg: string, cb: () => void): void;
    sendRecv(cmd: string, args: Record<string, string>, cb: () => void): void;
    disconnect(): void;
  }
  const server = createServer();
  if (noDelay) server.on('connection', (s) => s.setNoDelay(true));
  const listening = new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return listening.then(() => {
    const eslServer = new esl.Server({ server, myevents: true });
    eslServer.on('connection::ready', (conn) => {
      const headers: Record<string, string> = {};
      for (const h of conn.getInfo().headers) headers[h.name] = h.value;
      const gate = callFromChannel(headers, ACME);
      if (!gate.ok) return conn.disconnect();
      const { plan } = screener.screen(gate.call);
      const vars = [...plan.variables];
      const next = () => {
        const v = vars.shift();
        if (v) return conn.execute('set', `${v[0]}=${v[1]}`, next);
        if (plan.end.kind === 'hangup') {
          const cause = freeswitchCauseName(plan.end.cause);
          return conn.sendRecv('sendmsg', { 'call-command': 'hangup', 'hangup-cause': cause }, () =>
            conn.disconnect(),
          );
        }
        conn.disconnect();
      };
      next();
    });
    const a = server.address();
    return { port: typeof a === 'object' && a ? a.port : 0, close: () => server.close() };
  });
}

async function runOne(
  mode: 'outbound' | 'inbound',
  client: Client,
  opts: { rate: number; seconds: number; rules: number },
) {
  const logger = createLogger('warn');
  const engine = DecisionEngine.fromRules(tenantRules(opts.rules), {
    types: CONTRACT_TYPES,
    bindings: CONTRACT_BINDINGS,
  });
  const source = new StaticDeciderSource(DEFAULT_CALL_HANDLING).set(ACME, engine, { mode: 'digits' });
  const screener = new CallScreener(source, new MemoryEventSink());
  const load = {
    rate: opts.rate,
    seconds: opts.seconds,
    warmupCalls: Math.min(200, opts.rate),
    specs: callMix(opts.rules),
  };
  let report: EslLoadReport;
  let liveAfter = 0;
  if (mode === 'outbound') {
    let stopApp: () => Promise<void>;
    let appPort: number;
    if (client === 'own') {
      const app = new EslOutboundServer({
        host: '127.0.0.1',
        port: 0,
        screener,
        logger,
        defaultTenant: ACME,
      });
      appPort = await app.listen();
      stopApp = async () => {
        liveAfter = app.liveCalls;
        await app.drain();
      };
    } else {
      const app = await modeslOutboundApp(screener, client === 'modesl-nodelay');
      appPort = app.port;
      stopApp = async () => app.close();
    }
    const { worker } = await startWorker({ mode: 'outbound', appPort });
    ({ report } = await ask<{ report: EslLoadReport }>(worker, { type: 'run', load }, 'report'));
    await stopApp();
    await ask(worker, { type: 'stop' }, 'stopped');
    await worker.terminate();
  } else {
    const { worker, port } = await startWorker({ mode: 'inbound' });
    const app = new EslInboundClient({
      host: '127.0.0.1',
      port: port ?? 0,
      password: 'ClueCon',
      screener,
      logger,
      defaultTenant: ACME,
      transferContext: 'callguard_result',
    });
    await app.start();
    ({ report } = await ask<{ report: EslLoadReport }>(worker, { type: 'run', load }, 'report'));
    await app.drain();
    await ask(worker, { type: 'stop' }, 'stopped');
    await worker.terminate();
  }
  return {
    bench: 'esl',
    mode,
    client,
    rules: opts.rules + CONTRACT_RULES.length,
    rate: opts.rate,
    seconds: opts.seconds,
    ...report,
    liveInAppAfterRun: liveAfter,
    // outbound: the outcome takes one 20 ms tick (p99) and the app's own share stays under the bar;
    // inbound: api commands act at once, so the latency is the app's own
    bar:
      mode === 'outbound'
        ? {
            ticksP99: 1,
            appP99Ms: P99_BAR_MS,
            pass:
              report.ticks?.p99 === 1 &&
              (report.app?.p99Ms ?? Infinity) <= P99_BAR_MS &&
              report.leftInApp === 0,
          }
        : { p99Ms: P99_BAR_MS, pass: report.p99Ms <= P99_BAR_MS && report.leftInApp === 0 },
    node: process.version,
  };
}

export default async function run(args: string[]): Promise<void> {
  const rate = Number(flag(args, 'rate', '200'));
  const seconds = Number(flag(args, 'seconds', '10'));
  const rules = Number(flag(args, 'rules', '50000'));
  const modeArg = flag(args, 'mode', 'both');
  const clientArg = flag(args, 'client', 'own');
  const modes: Array<'outbound' | 'inbound'> =
    modeArg === 'both' ? ['outbound', 'inbound'] : [modeArg as 'outbound'];
  const clients: Client[] = clientArg === 'all' ? ['own', 'modesl', 'modesl-nodelay'] : [clientArg as Client];
  for (const mode of modes) {
    for (const client of clients) {
      if (mode === 'inbound' && client !== 'own') continue;
      console.log(JSON.stringify(await runOne(mode, client, { rate, seconds, rules })));
    }
  }
}

export { run };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
