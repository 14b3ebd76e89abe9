import { format } from 'node:util';
import type { Logger } from '../log.js';

/**
 * What libraries print with console.* goes through the process's logger instead: a serving process
 * writes one JSON record a line and nothing else. (BullMQ, for one, warns with console.warn when the
 * Redis eviction policy is not noeviction; callguard says the same in its own line, with the fix.)
 */
export function logLibraryConsole(log: Logger): void {
  const from = { from: 'console' };
  console.log = (...args: unknown[]) => log.info(from, format(...args));
  console.info = (...args: unknown[]) => log.info(from, format(...args));
  console.debug = (...args: unknown[]) => log.debug(from, format(...args));
  console.warn = (...args: unknown[]) => log.warn(from, format(...args));
  console.error = (...args: unknown[]) => log.error(from, format(...args));
}
