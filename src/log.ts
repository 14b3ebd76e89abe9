import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Secrets never reach the log, wherever they appear in a logged object. */
const REDACT = [
  'password',
  'passphrase',
  'secret',
  'apiKey',
  'privateKey',
  'authorization',
  '*.password',
  '*.passphrase',
  '*.secret',
  '*.apiKey',
  '*.privateKey',
  '*.authorization',
  'req.headers.authorization',
  '*.webhookSecret',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * One line per record either way: JSON for log collectors, or (on a terminal, LOG_FORMAT=auto) a short
 * coloured line with the time, level, message and the record's fields.
 */
function prettyStream(destination?: pino.DestinationStream): pino.DestinationStream {
  return pretty({
    ...(destination ? { destination: destination as NodeJS.WritableStream } : {}),
    singleLine: true,
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app',
    sync: true,
  });
}

export function createLogger(
  level = 'info',
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  const readable =
    format === 'pretty' || (format === 'auto' && !destination && process.stdout.isTTY === true);
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'callguard' } },
    readable ? prettyStream(destination) : destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
