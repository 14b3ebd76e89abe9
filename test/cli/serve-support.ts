import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

/** `callguard serve` started through the CLI entry, as an operator starts it. */
export interface ServeChild {
  readonly child: ChildProcess;
  /** Everything it wrote (stdout and stderr). */
  output(): string;
  /** Settles with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string | null>;
  /** Whether the process has ended. */
  readonly alive: boolean;
  /** Waits until /healthz answers 200 (bounded). */
  healthy(base: string, timeoutMs?: number): Promise<void>;
}

export function spawnServe(args: string[], env: NodeJS.ProcessEnv): ServeChild {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let ended = false;
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (out += c));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      resolve(code ?? signal);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    get alive() {
      return !ended;
    },
    async healthy(base, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !ended) {
        try {
          if ((await fetch(`${base}/healthz`)).status === 200) return;
        } catch {}
        await sleep(100);
      }
      throw new Error(`serve did not come up: ${out.slice(-4000)}`);
    },
  };
}

/** One HTTP request with its status, body and how long it took (ms); a client-side timeout is status 0. */
export async function timedRequest(
  base: string,
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<{ status: number; ms: number; body: Record<string, unknown> }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, ms: performance.now() - started, body: parsed };
  } catch {
    return { status: 0, ms: performance.now() - started, body: {} };
  }
}
