import type { ServerResponse } from 'node:http';

/** A client whose stream backs up past this many bytes is disconnected; it resumes with Last-Event-ID. */
const MAX_UNSENT_BYTES = 1024 * 1024;

/** `id` and `data` lines of one event (data: one line of JSON). */
export const sseEvent = (id: string, body: string): string => `id: ${id}\ndata: ${body}\n\n`;

/** What a tenant tail's subscription writes to its client. */
export interface EventStreamWriter {
  /** Writes one chunk unless the response is over; past MAX_UNSENT_BYTES unsent, `onOverflow` runs. */
  write(chunk: string): void;
  heartbeat(): void;
  /** 'overflow' drops the connection at once; anything else ends the stream cleanly. */
  end(reason?: string): void;
}

/**
 * Starts a Server-Sent Events answer on a hijacked response: the headers, a 2 s reconnect delay, and
 * a writer that never writes to an ended or destroyed response.
 */
export function openEventStream(res: ServerResponse, onOverflow: () => void): EventStreamWriter {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const write = (chunk: string) => {
    if (res.destroyed || res.writableEnded) return;
    res.write(chunk);
    if (res.writableLength > MAX_UNSENT_BYTES) onOverflow();
  };
  return {
    write,
    heartbeat: () => write(': heartbeat\n\n'),
    end: (reason) => {
      if (reason === 'overflow') res.destroy();
      else res.end();
    },
  };
}
