import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MemoryEventSink } from '../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../src/call/call-plan.js';
import { StaticDeciderSource } from '../src/call/static-decider-source.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { createLogger } from '../src/log.js';
import { AriApp } from '../src/pbx/asterisk/ari-app.js';
import { INPUT_VARIABLES } from '../src/pbx/asterisk/ari-call-reader.js';
import type { DoubleCallSpec } from '../test/pbx/asterisk/ari-double.js';
import { type AriClientKind, makeConnection } from '../test/pbx/asterisk/ari-harness.js';
import type { LoadReport } from '../test/pbx/asterisk/ari-load.js';
import {
  ACME,
  CAMPAIGN_TASK,
  CONTRACT_BINDINGS,
  CONTRACT_RULES,
  CONTRACT_TYPES,
} from '../test/pbx/contract/contract-tenants.js';
import { flag, P99_BAR_MS, tenantRules } from './pbx-bench-kit.js';

/**
 * ARI decision latency, measured at the ARI double (its own thread, on loopback): from the double
 * writing StasisStart to it receiving the request that ends the app's handling (continue or DELETE).
 *
 *   npm run bench -- ari [--rate 200] [--seconds 10] [--client both|undici|ari-client]
 *                        [--channelvars on|off] [--pipeline on|off] [--rules 50000]
 *
 * One JSON line per client. Bar: p99 <= 5 ms at 200 calls/s, and no call left in Stasis.
 */

/** A call mix: wrap-ups (4 variables + hangup), allows (2 variables + continue), anonymous blocks. */
function callMix(extra: number): DoubleCallSpec[] {
  const vars = { CALLGUARD_TENANT: ACME, CALLGUARD_AGENT: 'agent-42' };
  const specs: DoubleCallSpec[] = [
    { called: '14045266123', calling: '201', args: ['outbound', CAMPAIGN_TASK], variables: vars },
    {
      called: '14045266123',
      calling: '+14045550123',
      callerName: 'Alice Example',
      args: ['inbound'],
      variables: vars,
    },
    { called: '14045266123', calling: '4045550177', args: ['inbound'], variables: vars },
    { called: '14045266123', calling: '', args: ['inbound'], variables: vars },
    { called: '13125550100', calling: '201', args: ['outbound', CAMPAIGN_TASK], variables: vars },
  ];
  for (let i = 0; i < 5 && extra > 0; i++) {
    const n = String(12_025_550_000 + ((i * 7919) % extra) * 7);
    specs.push({ called: n, calling: '201', args: ['outbound', CAMPAIGN_TASK], variables: vars });
  }
  return specs;
}

function startDouble(channelvars: boolean): Promise<{ worker: Worker; url: string }> {
  // the worker's entry is TypeScript: register tsx in it before importing the file
  const entry = new URL('../test/pbx/asterisk/ari-double-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: { channelvars: channelvars ? [...INPUT_VARIABLES] : undefined },
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { type: string; url: string }) => resolve({ worker, url: m.url }));
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

async function runOne(
  client: AriClientKind,
  opts: { rate: number; seconds: number; channelvars: boolean; rules: number; pipeline: boolean },
) {
  const { worker, url } = await startDouble(opts.channelvars);
  const logger = createLogger('warn');
  const engine = DecisionEngine.fromRules(tenantRules(opts.rules), {
    types: CONTRACT_TYPES,
    bindings: CONTRACT_BINDINGS,
  });
  const source = new StaticDeciderSource(DEFAULT_CALL_HANDLING).set(ACME, engine, { mode: 'digits' });
  const app = new AriApp({
    connection: makeConnection(client, url, logger, { pipelineEnd: opts.pipeline }),
    source,
    events: new MemoryEventSink(),
    logger,
    defaultTenant: ACME,
  });
  await app.start();
  await ask(worker, { type: 'wait' }, 'connected');
  const elu0 = performance.eventLoopUtilization();
  const { report } = await ask<{ report: LoadReport }>(
    worker,
    {
      type: 'run',
      load: {
        rate: opts.rate,
        seconds: opts.seconds,
        warmupCalls: Math.min(200, opts.rate),
        specs: callMix(opts.rules),
        settleMs: 5_000,
      },
    },
    'report',
  );
  // how busy the app's event loop was: at 200 calls/s, the share of one core the app used
  const appLoopUtilization = Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000;
  await app.stop({ quietMs: 100, timeoutMs: 5_000 });
  const stopped = await ask<{ closeCodes: number[]; inStasis: number }>(worker, { type: 'stop' }, 'stopped');
  await worker.terminate();
  return {
    bench: 'ari',
    client,
    channelvars: opts.channelvars,
    pipelineEnd: client === 'undici' ? opts.pipeline : false,
    rules: opts.rules + CONTRACT_RULES.length,
    rate: opts.rate,
    seconds: opts.seconds,
    ...report,
    appLoopUtilization,
    leftInStasisAfterDrain: stopped.inStasis,
    closeCodes: stopped.closeCodes,
    bar: {
      p99Ms: P99_BAR_MS,
      pass: report.p99Ms <= P99_BAR_MS && report.leftInStasis === 0 && stopped.inStasis === 0,
    },
    node: process.version,
  };
}

export default async function run(args: string[]): Promise<void> {
  const rate = Number(flag(args, 'rate', '200'));
  const seconds = Number(flag(args, 'seconds', '10'));
  const which = flag(args, 'client', 'both');
  const channelvars = flag(args, 'channelvars', 'on') !== 'off';
  const rules = Number(flag(args, 'rules', '50000'));
  const pipeline = flag(args, 'pipeline', 'on') !== 'off';
  const clients: AriClientKind[] = which === 'both' ? ['undici', 'ari-client'] : [which as AriClientKind];
  for (const client of clients) {
    const result = await runOne(client, { rate, seconds, channelvars, rules, pipeline });
    console.log(JSON.stringify(result));
    if (result.leftInStasis > 0 || result.leftInStasisAfterDrain > 0) {
      throw new Error(`${client}: ${result.leftInStasis} calls left in Stasis`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
