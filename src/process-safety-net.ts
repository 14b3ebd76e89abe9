import { Counter } from 'prom-client';
import type { Logger } from './log.js';
import { metricsRegistry } from './metrics.js';

export const unhandledErrorsTotal = new Counter({
  name: 'callguard_unhandled_errors_total',
  help: 'Errors nothing handled (kind: rejection | exception), logged and survived; each one is a bug to report.',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

let installed: ((reason: unknown) => void) | undefined;

/**
 * The last line of defence of a serving process: an unhandled promise rejection or an uncaught
 * exception (an 'error' event nobody listened to) is logged with its stack and counted in
 * callguard_unhandled_errors_total, and the process goes on screening calls. Every emitter and
 * promise of callguard handles its own errors; reaching this is a bug, made visible, not fatal.
 */
export function installSafetyNet(log: Logger): void {
  if (installed) return;
  const report = (kind: 'rejection' | 'exception') => (reason: unknown) => {
    unhandledErrorsTotal.inc({ kind });
    log.error(
      { err: reason instanceof Error ? reason : { message: String(reason) }, kind },
      kind === 'rejection'
        ? 'unhandled promise rejection (a bug: please report it); the process keeps running'
        : 'uncaught exception (a bug: please report it); the process keeps running',
    );
  };
  installed = report('exception');
  process.on('unhandledRejection', report('rejection'));
  process.on('uncaughtException', installed);
}
