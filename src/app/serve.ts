import type { Config } from '../config.js';
import { createLogger, type Logger, logLineSink } from '../log.js';
import { installSafetyNet } from '../process-safety-net.js';
import { ensureRedis } from '../store/embedded-redis.js';
import { logLibraryConsole } from './library-console.js';
import { monitorLoopDelay } from './loop-delay.js';
import { answerMetricsAsks, mergeSiblingMetrics } from './metrics-relay.js';
import { type ProcessSpec, planProcesses } from './process-plan.js';
import { startServer } from './role-server.js';
import type { RoleName } from './roles.js';
import { armStopDeadline } from './shutdown-deadline.js';
import { READY_MESSAGE } from './supervised-child.js';
import { Supervisor } from './supervisor.js';

export interface ServeOptions {
  readonly roles: ReadonlySet<RoleName>;
  /** Every role in this one process (development, tests): no supervisor, no isolation. */
  readonly singleProcess: boolean;
  /** Set in a child of the supervisor: the name its log lines carry. */
  readonly proc?: ProcessSpec['proc'];
}

/** How long the supervisor lets its children drain before it kills them: the whole stop stays under 10 s. */
export const CHILD_GRACE_MS = 8_000;

/**
 * `callguard serve`: call roles and the other roles each in a process of their own under a
 * supervisor when both kinds are asked for, else (or with --single-process) every role here.
 * Resolves once everything has stopped after SIGTERM or SIGINT.
 */
export async function serve(config: Config, options: ServeOptions): Promise<void> {
  const plan = planProcesses(options.roles);
  if (options.singleProcess || options.proc || plan.length === 1) {
    return serveInProcess(config, options);
  }
  return superviseProcesses(config, plan);
}

/** Calls `onStop` on the first SIGTERM/SIGINT and `onRepeat` on any later one. */
function onStopSignals(onStop: (signal: NodeJS.Signals) => void, onRepeat: (signal: NodeJS.Signals) => void) {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) return onRepeat(signal);
    signalled = true;
    onStop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

async function serveInProcess(config: Config, options: ServeOptions): Promise<void> {
  const supervised = options.proc !== undefined;
  // A child's lines go to the supervisor's relay: always JSON there, whatever LOG_FORMAT says.
  const base = createLogger(config.LOG_LEVEL, undefined, supervised ? 'json' : config.LOG_FORMAT);
  const roles = options.roles;
  const log: Logger = supervised ? base.child({ proc: options.proc, roles: [...roles] }) : base;
  installSafetyNet(log);
  logLibraryConsole(log);
  monitorLoopDelay();
  if (supervised) {
    answerMetricsAsks(options.proc!);
    if (roles.has('api')) mergeSiblingMetrics();
  }
  // A supervised child's logger already names its roles on every line.
  log.info(supervised ? {} : { roles: [...roles] }, 'callguard starting');
  const server = startServer(config, roles, log);
  const stop = () =>
    server.stop().then(
      () => log.info('stopped'),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exitCode = 1;
      },
    );
  // Handlers go in before the roles start: a SIGTERM during start-up still stops cleanly.
  const done = new Promise<void>((resolve) => {
    const begin = (reason: Record<string, unknown>, message: string) => {
      armStopDeadline(log);
      log.info(reason, message);
      void stop().then(resolve);
    };
    onStopSignals(
      (signal) => begin({ signal }, 'stopping: no new work, draining live calls'),
      (signal) => {
        // The supervisor forwards the signal a terminal or a process manager may also have sent: the
        // drain goes on, and the supervisor's own deadline ends a child that does not finish it.
        if (supervised) return log.info({ signal }, 'already stopping');
        log.warn({ signal }, 'second signal: exiting without finishing the drain');
        process.exit(1);
      },
    );
    // The supervisor is gone (killed): stop too rather than run on unsupervised beside a new one.
    if (supervised) process.once('disconnect', () => begin({}, 'supervisor gone; stopping'));
  });
  try {
    await server.started;
    log.info(supervised ? {} : { roles: [...roles] }, 'callguard serving');
    if (supervised) process.send?.(READY_MESSAGE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  await done;
  // Everything is stopped: a handle a library left open (a connection still retrying while Redis is
  // away) must not hold the process.
  process.exit();
}

async function superviseProcesses(config: Config, plan: readonly ProcessSpec[]): Promise<void> {
  // One writer for the one stream: the supervisor's lines and the children's relayed lines.
  // (JSON lines; printed short on a terminal: the children always write JSON to the relay)
  const sink = logLineSink(config.LOG_FORMAT);
  const log = createLogger(config.LOG_LEVEL, sink, 'json').child({ proc: 'supervisor' });
  installSafetyNet(log);
  logLibraryConsole(log);
  // A private Redis, when one is needed, belongs to the supervisor: it outlives child restarts.
  const embedded = await ensureRedis(config, log);
  const env: NodeJS.ProcessEnv = embedded
    ? { ...process.env, REDIS_URL: embedded.url, CALLGUARD_EMBEDDED_REDIS: 'never' }
    : { ...process.env };
  const supervisor = new Supervisor({ specs: plan, log, sink, env });
  const done = new Promise<void>((resolve) => {
    onStopSignals(
      (signal) => {
        log.info({ signal, graceMs: CHILD_GRACE_MS }, 'stopping: draining every process');
        void supervisor
          .stop(CHILD_GRACE_MS)
          .then(() => embedded?.stop())
          .then(
            () => log.info('stopped'),
            (error: unknown) => {
              log.error({ err: error }, 'stop failed');
              process.exitCode = 1;
            },
          )
          .then(resolve);
      },
      (signal) => {
        log.warn({ signal }, 'second signal: killing every process without finishing the drain');
        supervisor.kill();
        process.exit(1);
      },
    );
  });
  supervisor.start();
  void supervisor.ready.then(() =>
    log.info(
      { processes: supervisor.children.map((c) => ({ proc: c.spec.proc, roles: c.spec.roles, pid: c.pid })) },
      'callguard serving',
    ),
  );
  await done;
}
