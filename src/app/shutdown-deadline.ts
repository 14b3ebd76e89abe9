import type { Logger } from '../log.js';

/** How long `callguard serve` may take to stop after SIGTERM before it exits anyway. */
export const STOP_DEADLINE_MS = 9_000;

/**
 * Arms the stop deadline: every role's stop is bounded, and this is the bound over all of them, so
 * that SIGTERM ends the process within 10 s even when Redis or a peer does not answer. Exit code 1
 * says the drain did not finish.
 */
export function armStopDeadline(log: Logger, ms = STOP_DEADLINE_MS): void {
  setTimeout(() => {
    log.error({ afterMs: ms }, 'stop did not finish in time (a dependency does not answer); exiting now');
    process.exit(1);
  }, ms).unref();
}
