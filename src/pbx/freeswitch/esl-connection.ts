import type { Socket } from 'node:net';
import { cgError } from '../../domain/errors.js';
import {
  ESL_LIMITS,
  type EslEvent,
  type EslHeaders,
  type EslLimits,
  type EslMessage,
  EslParser,
  eventOf,
} from './esl-codec.js';

/** The answer to one command: a command/reply (Reply-Text) or an api/response (body). */
export interface EslReply {
  readonly headers: EslHeaders;
  readonly body?: string;
  /** Reply-Text for command/reply, the body for api/response, trimmed of its trailing newline. */
  readonly text: string;
  /** FreeSWITCH said +OK (or, for api, anything that is not -ERR / -USAGE). */
  readonly ok: boolean;
}

export interface EslConnectionHandlers {
  onEvent?(event: EslEvent): void;
  /** text/disconnect-notice: `linger` (the channel is gone, the socket stays) or `disconnect`. */
  onDisconnectNotice?(headers: EslHeaders): void;
  /** Inbound mode: FreeSWITCH asks for `auth`. */
  onAuthRequest?(): void;
  /** text/rude-rejection: the event socket's ACL (apply-inbound-acl) turned us away; it closes next. */
  onRudeRejection?(text: string): void;
  /**
   * The peer sent a message past the size limits (CG_ERR_ESL_PROTOCOL): it is not a working event
   * socket. The socket is destroyed with this error right after, so 'error' and onClose follow.
   */
  onProtocolError?(err: Error): void;
  onClose?(hadError: boolean): void;
}

export function replyOf(message: EslMessage): EslReply {
  const type = message.headers['Content-Type'];
  if (type === 'api/response') {
    const text = (message.body ?? '').replace(/\n$/, '');
    return { headers: message.headers, body: message.body, text, ok: !/^-(ERR|USAGE)/.test(text) };
  }
  const text = (message.headers['Reply-Text'] ?? '').replace(/\n$/, '');
  return { headers: message.headers, body: message.body, text, ok: text.startsWith('+OK') };
}

/**
 * One event-socket connection in either mode. Every command gets exactly one command/reply or
 * api/response, in order, so replies are matched to commands by a FIFO; commands are written at
 * once without waiting for earlier replies (pipelining), and a batch goes out in one write so that
 * a decision costs one segment, not one per line (Nagle is off as well).
 */
export class EslConnection {
  private readonly pending: Array<{ resolve(r: EslReply): void; reject(e: Error): void }> = [];
  private readonly parser: EslParser;
  private closedFlag = false;

  constructor(
    readonly socket: Socket,
    private readonly handlers: EslConnectionHandlers = {},
    limits: EslLimits = ESL_LIMITS,
  ) {
    socket.setNoDelay(true);
    this.parser = new EslParser((m) => this.dispatch(m), limits);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.handlers.onProtocolError?.(err as Error);
        socket.destroy(err as Error);
      }
    });
    socket.on('error', () => {
      // 'close' follows with hadError; the owner decides how loud that is.
    });
    socket.on('close', (hadError) => {
      this.closedFlag = true;
      const waiting = this.pending.splice(0);
      for (const p of waiting)
        p.reject(cgError('CG_ERR_ESL_CLOSED', 'the event socket closed before FreeSWITCH replied'));
      this.handlers.onClose?.(hadError);
    });
  }

  get closed(): boolean {
    return this.closedFlag || this.socket.destroyed;
  }

  /** Writes one framed command (see esl-codec encode*) and resolves with its reply. */
  send(framed: string): Promise<EslReply> {
    return this.sendBatch([framed]).then((r) => r[0]);
  }

  /** Writes several framed commands in one write; resolves with their replies in order. */
  sendBatch(framed: readonly string[]): Promise<EslReply[]> {
    if (this.closed) {
      return Promise.reject(cgError('CG_ERR_ESL_CLOSED', 'the event socket is closed'));
    }
    const replies = framed.map(
      () =>
        new Promise<EslReply>((resolve, reject) => {
          this.pending.push({ resolve, reject });
        }),
    );
    this.socket.write(framed.length === 1 ? framed[0] : framed.join(''));
    return Promise.all(replies);
  }

  /** Writes without expecting to read the replies (they are still consumed in order). */
  sendAndForget(framed: readonly string[]): void {
    if (this.closed) return;
    for (let i = 0; i < framed.length; i++) this.pending.push({ resolve: noop, reject: noop });
    this.socket.write(framed.join(''));
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private dispatch(message: EslMessage): void {
    const type = message.headers['Content-Type'];
    switch (type) {
      case 'command/reply':
      case 'api/response': {
        const waiter = this.pending.shift();
        waiter?.resolve(replyOf(message));
        return;
      }
      case 'auth/request':
        this.handlers.onAuthRequest?.();
        return;
      case 'text/rude-rejection':
        this.handlers.onRudeRejection?.((message.body ?? '').trim());
        return;
      case 'text/disconnect-notice':
        this.handlers.onDisconnectNotice?.(message.headers);
        return;
      default: {
        const event = eventOf(message);
        if (event) this.handlers.onEvent?.(event);
      }
    }
  }
}

function noop(): void {}
