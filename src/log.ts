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
    // err is a one-line string here (see errorLine), printed on the line with the other fields
    errorLikeObjectKeys: [],
    sync: true,
  });
}

const errorLine = (e: unknown): unknown =>
  e instanceof Error ? `${e.name}: ${e.message.replace(/\s*\n\s*/g, ' ')}` : e;

/**
 * Where a process writes JSON log lines (its own and, for the supervisor, its children's): stdout, or
 * on a terminal (LOG_FORMAT=auto) or with LOG_FORMAT=pretty a stream that prints each as a short line.
 */
export function logLineSink(format: LogFormat): pino.DestinationStream {
  const readable = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  return readable ? prettyStream() : process.stdout;
}

export function createLogger(
  level = 'info',
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  const readable =
    format === 'pretty' || (format === 'auto' && !destination && process.stdout.isTTY === true);
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { app: 'callguard' },
      // On a terminal an error is its type and message on the line; the stack stays in JSON logs.
      // (pino tells pino-pretty its errorKey, which then prints apart on several lines: not `err`)
      ...(readable ? { serializers: { err: errorLine, error: errorLine }, errorKey: 'error' } : {}),
    },
    readable ? prettyStream(destination) : destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
