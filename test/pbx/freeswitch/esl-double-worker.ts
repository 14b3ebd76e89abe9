import { parentPort, workerData } from 'node:worker_threads';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';
import { type EslLoadOptions, runEslLoad } from './esl-load.js';
import { FreeswitchOutboundDouble } from './esl-outbound-double.js';

/**
 * The ESL double on its own thread for bench/esl.ts, so that what it measures is the app's time and
 * not the double waiting behind the app on one event loop.
 *   workerData: { mode: 'outbound', appPort } | { mode: 'inbound' }
 *   messages in: { type: 'run', load } → out: { type: 'report', report }; { type: 'stop' } → 'stopped'
 */
const data = workerData as { mode: 'outbound'; appPort: number } | { mode: 'inbound' };
const port = parentPort!;

if (data.mode === 'outbound') {
  const double = new FreeswitchOutboundDouble({ port: data.appPort, waitMs: 10_000 });
  port.postMessage({ type: 'listening' });
  port.on('message', async (m: { type: string; load?: EslLoadOptions }) => {
    if (m.type === 'run' && m.load) {
      port.postMessage({ type: 'report', report: await runEslLoad((s) => double.placeCall(s), m.load) });
    } else if (m.type === 'stop') {
      port.postMessage({ type: 'stopped' });
    }
  });
} else {
  const double = new FreeswitchInboundDouble({ waitMs: 10_000 });
  const listenPort = await double.listen();
  port.postMessage({ type: 'listening', port: listenPort });
  port.on('message', async (m: { type: string; load?: EslLoadOptions }) => {
    if (m.type === 'run' && m.load) {
      await double.waitForSubscriber(10_000);
      port.postMessage({ type: 'report', report: await runEslLoad((s) => double.placeCall(s), m.load) });
    } else if (m.type === 'stop') {
      await double.close();
      port.postMessage({ type: 'stopped' });
    }
  });
}
