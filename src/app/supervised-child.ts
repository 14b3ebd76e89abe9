import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Backoff } from '../backoff.js';
import type { Logger } from '../log.js';
import { type LineSink, relayLines } from './log-relay.js';
import type { ProcessSpec } from './process-plan.js';

/** The command every child runs: the same `callguard` bin (it registers the TypeScript loader itself). */
const CLI_ENTRY = fileURLToPath(new URL('../../bin/callguard.js', import.meta.url));

/** What a child says over IPC once all its roles have started. */
export const READY_MESSAGE = { type: 'callguard:ready' } as const;

export interface RestartPolicy {
  /** First restart delay; doubled after each crash that came soon after a start. */
  readonly initialMs: number;
  /** Cap of the restart delay. */
  readonly maxMs: number;
  /** A child that ran at least this long before it died restarts after initialMs again. */
  readonly stableMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

export interface SupervisedChildOptions {
  readonly spec: ProcessSpec;
  readonly log: Logger;
  readonly sink: LineSink;
  readonly env: NodeJS.ProcessEnv;
  readonly restart?: RestartPolicy;
  /** Any other IPC message of the child (the metrics relay). */
  readonly onMessage?: (from: SupervisedChild, message: unknown) => void;
}

/** node flags of this process, less the TypeScript loader the child's bin registers on its own. */
function childExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--import' && argv[i + 1] === 'tsx') i++;
    else if (argv[i] !== '--import=tsx') out.push(argv[i]!);
  }
  return out;
}

/**
 * One child process of the supervisor, running `callguard serve --single-process` for its roles. It
 * is started again after any exit the supervisor did not ask for, after an exponential backoff
 * (capped; reset once a child has run for a while), so a crash loop does not spin the CPU.
 */
export class SupervisedChild {
  private child: ChildProcess | undefined;
  private readonly backoff: Backoff;
  private readonly policy: RestartPolicy;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  private readyOnce: () => void = () => {};
  /** Settles the first time the child says all its roles have started. */
  readonly ready: Promise<void>;
  /** Starts of this child so far (1 + restarts). */
  starts = 0;

  constructor(private readonly o: SupervisedChildOptions) {
    this.policy = o.restart ?? DEFAULT_RESTART;
    this.backoff = new Backoff({ initialMs: this.policy.initialMs, maxMs: this.policy.maxMs });
    this.ready = new Promise((resolve) => (this.readyOnce = resolve));
  }

  get spec(): ProcessSpec {
    return this.o.spec;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping) return;
    const { spec } = this.o;
    const child = fork(
      CLI_ENTRY,
      ['serve', '--single-process', '--roles', spec.roles.join(','), '--proc', spec.proc],
      { env: this.o.env, execArgv: childExecArgv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    this.child = child;
    this.starts++;
    this.startedAt = Date.now();
    const from = { proc: spec.proc, roles: spec.roles, pid: child.pid };
    relayLines(child.stdout!, { ...from, stderr: false }, this.o.sink);
    relayLines(child.stderr!, { ...from, stderr: true }, this.o.sink);
    this.o.log.info(
      { child: spec.proc, roles: spec.roles, pid: child.pid, start: this.starts },
      'process started',
    );
    child.on('message', (m: unknown) => {
      if ((m as { type?: string } | null)?.type === READY_MESSAGE.type) {
        this.o.log.info({ child: spec.proc, pid: child.pid }, 'process ready');
        this.readyOnce();
      } else {
        this.o.onMessage?.(this, m);
      }
    });
    // A failed fork or a broken IPC pipe: the exit that follows (or the restart) handles it.
    child.on('error', (error) => this.o.log.error({ child: spec.proc, err: error.message }, 'process error'));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    const { spec } = this.o;
    if (this.stopping) {
      this.o.log.info({ child: spec.proc, pid: child.pid, code, signal }, 'process stopped');
      return;
    }
    if (Date.now() - this.startedAt >= this.policy.stableMs) this.backoff.reset();
    const delayMs = this.backoff.next();
    this.o.log.error(
      { child: spec.proc, roles: spec.roles, pid: child.pid, code, signal, restartInMs: delayMs },
      'process exited unexpectedly; restarting it',
    );
    this.restartTimer = setTimeout(() => this.start(), delayMs);
  }

  /** Sends an IPC message to the running child; false when there is none to send it to. */
  send(message: unknown): boolean {
    const child = this.child;
    if (!child?.connected) return false;
    try {
      return child.send(message as object);
    } catch {
      return false;
    }
  }

  /** Sends `signal` to a running child (the drain asks with SIGTERM). */
  signal(signal: NodeJS.Signals): void {
    try {
      this.child?.kill(signal);
    } catch {
      // already gone
    }
  }

  /**
   * Stops for good: SIGTERM (the child drains its live calls and jobs), then SIGKILL once `graceMs`
   * has passed. Resolves when the child has exited.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.signal('SIGTERM');
    const killer = setTimeout(() => {
      this.o.log.warn(
        { child: this.o.spec.proc, pid: child.pid, graceMs },
        'process did not drain in time; killing it',
      );
      child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(killer);
  }

  /** Ends the child at once (a second signal to the supervisor). */
  kill(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.signal('SIGKILL');
  }
}
