// Entry of a worker thread that runs a TypeScript module: workers do not inherit the main thread's
// tsx loader, so each registers its own (workerData.module: the module's file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
