import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** One line of the `callguard serve` log stream. */
export type LogLine = Record<string, unknown> & { msg?: string; proc?: string };

/** `callguard serve <args>` as a child process, its log stream parsed line by line. */
export class ServeProcess {
  readonly child: ChildProcess;
  /** Every stdout line, parsed (a line that is not JSON is kept as `{ notJson: line }`). */
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `nodeFlags`: flags for node itself (the supervisor passes them on to its children). */
  constructor(args: readonly string[], env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []) {
    this.child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', MAIN, 'serve', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ notJson: line });
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The first line (from `from` on) that `match` accepts, waiting up to `timeoutMs`. */
  async waitFor(match: (l: LogLine) => boolean, timeoutMs = 60_000, from = 0): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (Date.now() > until || this.child.exitCode !== null) {
        throw new Error(`no such log line within ${timeoutMs} ms; log:\n${this.tail()}`);
      }
      await sleep(50);
    }
  }

  /** The last lines of output, for assertion messages. */
  tail(n = 40): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-n)].join('\n');
  }

  /** pids of the supervisor's children as its `process started` lines name them, latest last. */
  childPids(proc: string): number[] {
    return this.lines
      .filter((l) => l.proc === 'supervisor' && l.msg === 'process started' && l.child === proc)
      .map((l) => l.pid as number);
  }

  /** Stops it (SIGTERM, then SIGKILL after `ms`). */
  async stop(ms = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Whether a process with this pid still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
