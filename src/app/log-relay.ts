import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Where the supervisor writes the one log stream (its stdout). */
export interface LineSink {
  write(line: string): unknown;
}

/** pino's numeric levels for lines a child wrote outside its logger. */
const INFO = 30;
const ERROR = 50;

/**
 * Passes a child's output into the supervisor's single log stream, one JSON line per line, each
 * naming the process and its roles. The child's pino lines already carry `proc` and `roles` and go
 * through untouched (no parse on the common path); anything else (a crash's stack trace on stderr, a
 * library's console output) is wrapped into a JSON line at error (stderr) or info (stdout) level.
 */
export function relayLines(
  input: Readable,
  from: { proc: string; roles: readonly string[]; pid: number | undefined; stderr: boolean },
  sink: LineSink,
): void {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line.length === 0) return;
    sink.write(`${tagLine(line, from)}\n`);
  });
  // A child gone mid-line: readline ends; an error on the pipe must not reach the supervisor.
  input.on('error', () => {});
}

export function tagLine(
  line: string,
  from: { proc: string; roles: readonly string[]; pid: number | undefined; stderr: boolean },
): string {
  if (line.startsWith('{') && line.includes('"proc":')) return line;
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return JSON.stringify({ ...parsed, proc: from.proc, roles: from.roles });
      }
    } catch {
      // not JSON after all: wrapped below
    }
  }
  return JSON.stringify({
    level: from.stderr ? ERROR : INFO,
    time: Date.now(),
    app: 'callguard',
    proc: from.proc,
    roles: from.roles,
    pid: from.pid,
    msg: line,
  });
}
