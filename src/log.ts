import { type Logger, pino } from 'pino';

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

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'callguard' } },
    destination,
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
