import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/log.js';

export interface LogRecord {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A pino logger at debug that keeps its records, to assert what was (not) logged as an error. */
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
