import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface LogRecord {
  level: number;
  msg?: string;
  code?: string;
  [key: string]: unknown;
}

/** A pino logger that keeps its records, for asserting what the app said (and that it did not err). */
export function memoryLogger(): { logger: Logger; records: LogRecord[]; errors: () => LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: createLogger('debug', sink), records, errors: () => records.filter((r) => r.level >= 50) };
}

/** Polls until `check` holds (bounded); returns whether it did. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return check();
}
