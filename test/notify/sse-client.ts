import { type ClientRequest, type IncomingMessage, request } from 'node:http';

/** One Server-Sent Events frame as a client sees it. */
export interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  /** A comment-only frame (heartbeat). */
  readonly comment?: string;
  /** Date.now() when the frame was complete. */
  readonly at: number;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly frames: SseFrame[];
  /** Resolves when the server ended the stream (or the connection broke). */
  readonly ended: Promise<void>;
  /** Resolves once `n` frames matching `filter` arrived (bounded by timeoutMs). */
  waitFor(n: number, filter?: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame[]>;
  close(): void;
}

/**
 * A plain SSE client over node:http (what an EventSource does, without reconnecting): the tests and
 * the notify bench read agent streams with it. Answers other than 200 resolve with the body as one
 * frame's data.
 */
export function openSse(
  url: string,
  headers: Record<string, string> = {},
  onFrame?: (f: SseFrame) => void,
): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, {
      headers: { accept: 'text/event-stream', ...headers },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const frames: SseFrame[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8');
      const ended = new Promise<void>((r) => {
        res.on('end', r);
        res.on('close', r);
        res.on('error', () => r());
      });
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const f: { id?: string; event?: string; data?: string; comment?: string; at: number } = {
            at: Date.now(),
          };
          for (const line of block.split('\n')) {
            const c = line.indexOf(':');
            const name = c < 0 ? line : line.slice(0, c);
            const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
            if (name === '') f.comment = value;
            else if (name === 'id') f.id = value;
            else if (name === 'event') f.event = value;
            else if (name === 'data') f.data = f.data === undefined ? value : `${f.data}\n${value}`;
          }
          frames.push(f);
          onFrame?.(f);
          for (const w of waiters) w();
        }
      });
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => frames.push({ data: body, at: Date.now() }));
      }
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        ended,
        waitFor(n, filter = (f) => f.data !== undefined && f.event === undefined, timeoutMs = 10_000) {
          return new Promise((done, fail) => {
            const check = () => {
              const hits = frames.filter(filter);
              if (hits.length < n) return false;
              clearTimeout(timer);
              waiters.delete(check as () => void);
              done(hits);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(check as () => void);
              fail(new Error(`${frames.filter(filter).length} of ${n} frames within ${timeoutMs} ms`));
            }, timeoutMs);
            if (!check()) waiters.add(check as () => void);
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.end();
  });
}
