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

/** How often an open stream's key is checked again (a revoked key stops seeing events within it). */
export const KEY_RECHECK_MS = 10_000;

/**
 * Ends an open stream once its key is revoked or has expired: the key is checked when the stream
 * opens, and a stream stays open for hours (the console's live decisions, an agent's desktop). Checked
 * every `everyMs`; with Redis away the stream goes on (as requests with a verified key do). Says why in
 * a last `revoked` event before the end.
 */
export function endWhenKeyGoes(
  keys: { isLive(tenant: string, keyId: string): Promise<boolean> },
  principal: { readonly tenant: string; readonly keyId: string; readonly expiresAt?: number },
  res: ServerResponse,
  end: () => void,
  everyMs = KEY_RECHECK_MS,
): void {
  const stop = (reason: string) => {
    clearInterval(timer);
    if (!res.destroyed && !res.writableEnded)
      res.write(`event: revoked\ndata: ${JSON.stringify({ reason })}\n\n`);
    end();
  };
  const timer = setInterval(() => {
    if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
      stop('the API key expired');
      return;
    }
    keys.isLive(principal.tenant, principal.keyId).then(
      (live) => {
        if (!live) stop('the API key was revoked');
      },
      () => {
        // Redis away: the stream goes on; the key is checked again next time
      },
    );
  }, everyMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
