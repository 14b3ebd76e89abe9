import { Worker } from 'node:worker_threads';
import { encodeSnapshot } from '../engine/snapshot-codec.js';
import type { RedisClient } from './redis-client.js';
import type { TenantParams } from './tenant-params.js';
import { loadTenantState, type TenantState } from './tenant-state-loader.js';

/** A tenant's rules compiled into snapshot bytes, and what they reflect. */
export interface CompiledSnapshot {
  readonly bytes: Uint8Array;
  readonly version: string;
  readonly params: TenantParams;
  /** The engine, when it was compiled on this thread (a worker thread sends only the bytes). */
  readonly state?: TenantState;
}

/** How a worker thread connects to Redis on its own (the settings of the node's own client). */
export interface CompilerConnection {
  readonly url: string;
  readonly cluster?: boolean;
}

/** Reads a tenant's rules and compiles them into a snapshot on this thread. */
export async function compileSnapshot(client: RedisClient, tenant: string): Promise<CompiledSnapshot> {
  const state = await loadTenantState(client, tenant);
  const bytes = encodeSnapshot(state.engine, { version: state.version });
  return { bytes, version: state.version, params: state.params, state };
}

const THREAD_ENTRY = new URL('../../bin/ts-worker.js', import.meta.url);
const THREAD_MODULE = new URL('./snapshot-compiler-thread.ts', import.meta.url).href;

/**
 * compileSnapshot on a worker thread with its own Redis connection: compiling a large tenant takes
 * seconds of CPU (about 13 s at 10M rules), which on the node's event loop would hold up every call
 * and request it serves meanwhile. The bytes come back as a transferred buffer, not a copy.
 */
export function compileSnapshotInThread(
  connection: CompilerConnection,
  tenant: string,
): Promise<CompiledSnapshot> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, {
      workerData: { module: THREAD_MODULE, connection, tenant },
    });
    let done = false;
    worker.once('message', (m: CompiledSnapshot | { error: string }) => {
      done = true;
      if ('error' in m) reject(new Error(`snapshot compile thread: ${m.error}`));
      else resolve(m);
    });
    worker.once('error', (error) => {
      done = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`snapshot compile thread exited with code ${code} before it answered`));
    });
  });
}
