import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/notify/webhook-signature.js';

/** What the receiver does with requests to one path. */
export type Behaviour =
  | { readonly kind: 'ok' }
  /** Answers 500 to the first `times` requests, then 200. */
  | { readonly kind: 'fail'; times: number }
  | { readonly kind: 'always'; readonly status: number }
  /** Answers after `ms` (longer than the sender's time limit). */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Answers 500 to the bodies `refuse` says yes to (one agent's events, say), 200 to the others. */
  | { readonly kind: 'refuseIf'; readonly refuse: (body: string) => boolean };

export interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly signatureValid: boolean;
  readonly status: number;
  /** performance.now() when the request was read. */
  readonly readAt: number;
}

/** A real HTTP webhook receiver on 127.0.0.1 that checks signatures like a customer's would. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private server!: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;
  /** While true, every connection is dropped without an answer (the receiver's host is away). */
  down = false;
  /** Requests read and not answered yet, per path, and the most there were at once. */
  readonly open = new Map<string, number>();
  readonly mostOpen = new Map<string, number>();
  /** Requests the sender gave up on (closed) before they were answered, per path. */
  readonly abandoned = new Map<string, number>();

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const readAt = performance.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const b = this.behaviours.get(path) ?? { kind: 'ok' };
        const count = (m: Map<string, number>, by: number) => m.set(path, (m.get(path) ?? 0) + by);
        count(this.open, 1);
        this.mostOpen.set(path, Math.max(this.mostOpen.get(path) ?? 0, this.open.get(path)!));
        let answered = false;
        res.once('close', () => {
          count(this.open, -1);
          if (!answered) count(this.abandoned, 1);
        });
        const signatureValid = verifySignature(
          this.secret,
          body,
          req.headers['x-callguard-signature'] as string,
        );
        let status = signatureValid ? 200 : 401;
        if (b.kind === 'fail' && b.times > 0) {
          b.times--;
          status = 500;
        } else if (b.kind === 'always') status = b.status;
        else if (b.kind === 'refuseIf' && b.refuse(body)) status = 500;
        const answer = () => {
          answered = true;
          this.received.push({ path, headers: req.headers, body, signatureValid, status, readAt });
          res
            .writeHead(status, { 'content-type': 'text/plain' })
            .end(`receiver says ${status} (not to be stored)`);
        };
        if (b.kind === 'slow') {
          const t = setTimeout(() => {
            this.timers.delete(t);
            answer();
          }, b.ms);
          this.timers.add(t);
        } else answer();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` every 20 ms, at most `tries` times; throws with `what` when it never holds. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  tries = 500,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}
