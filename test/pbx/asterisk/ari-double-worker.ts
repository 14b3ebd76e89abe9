import { parentPort, workerData } from 'node:worker_threads';
import { AriDouble, type AriDoubleOptions } from './ari-double.js';
import { type LoadOptions, runLoad } from './ari-load.js';

/**
 * The ARI double in its own thread, for the benchmark: Asterisk is another process, so the app's
 * event loop should not also carry the PBX side's work. Messages: run → report, stop → stopped.
 */
const port = parentPort;
if (!port) throw new Error('ari-double-worker runs as a worker thread');
const double = new AriDouble(workerData as AriDoubleOptions);
const url = await double.start();
port.postMessage({ type: 'ready', url });
port.on('message', async (msg: { type: 'run'; load: LoadOptions } | { type: 'stop' } | { type: 'wait' }) => {
  if (msg.type === 'wait') {
    await double.waitForApp(10_000);
    port.postMessage({ type: 'connected' });
  } else if (msg.type === 'run') {
    const report = await runLoad(double, msg.load);
    port.postMessage({ type: 'report', report });
  } else {
    // the app closed its socket calmly: give the close handshake a moment to finish on this side
    for (let i = 0; i < 100 && double.closeCodes.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const closeCodes = double.closeCodes;
    const inStasis = double.inStasis();
    await double.stop();
    port.postMessage({ type: 'stopped', closeCodes, inStasis });
  }
});
