/**
 * The FreeSWITCH event socket wire format, both directions. A message is a block of `Name: value`
 * lines ended by an empty line, followed by exactly Content-Length bytes of body when that header is
 * present. Header order is not fixed (the outbound `connect` reply puts Content-Type near the end and
 * has no Content-Length), so framing looks only at `\n\n` and Content-Length.
 */

import { cgError } from '../../domain/errors.js';

export type EslHeaders = Record<string, string>;

export interface EslMessage {
  readonly headers: EslHeaders;
  /** The body (Content-Length bytes, decoded as UTF-8); undefined when the message has none. */
  readonly body?: string;
}

/** One event, from a text/event-plain or text/event-json body, or from the outbound connect reply. */
export interface EslEvent {
  readonly name: string;
  readonly headers: EslHeaders;
  /** An event's own body: the result of a BACKGROUND_JOB, for instance. */
  readonly body?: string;
  /** One header, without reading the others when the event has not been read whole yet. */
  get?(name: string): string | undefined;
}

/** One header of an event; cheap on the lazily read events eventOf() returns. */
export function eventHeader(event: EslEvent, name: string): string | undefined {
  return event.get ? event.get(name) : event.headers[name];
}

const LF = 0x0a;

/**
 * Values of plain headers are URL-encoded by FreeSWITCH (`Reply-Text: %2BOK%0A` in the connect reply).
 * A value that is not valid percent-encoding is kept as it came, never thrown on: a caller name is
 * not a reason to drop a call.
 */
export function urlDecode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Parses `Name: value` lines; values are URL-decoded. The first of duplicates wins, as in FreeSWITCH's own lookup. */
export function parseHeaderBlock(text: string): EslHeaders {
  const headers: EslHeaders = {};
  let start = 0;
  const end = text.length;
  while (start < end) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = end;
    const colon = text.indexOf(':', start);
    if (colon !== -1 && colon < nl) {
      const name = text.slice(start, colon);
      let valueStart = colon + 1;
      if (text.charCodeAt(valueStart) === 0x20) valueStart++;
      let valueEnd = nl;
      if (valueEnd > valueStart && text.charCodeAt(valueEnd - 1) === 0x0d) valueEnd--;
      if (headers[name] === undefined) headers[name] = urlDecode(text.slice(valueStart, valueEnd));
    }
    start = nl + 1;
  }
  return headers;
}

/**
 * What one message may carry before the peer is taken for broken. The largest message recorded from
 * FreeSWITCH 1.10.12 is the outbound connect reply, a 4 kB header block (the channel data), and the
 * largest body a 5 kB CHANNEL_HANGUP_COMPLETE; many channel variables, SIP headers and SDP can make a
 * real channel several times that. Without a cap a peer that never ends its header block, or declares
 * a Content-Length of gigabytes, is buffered for as long as it keeps sending.
 */
export interface EslLimits {
  /** Bytes of one header block (everything before its blank line). */
  readonly maxHeaderBytes: number;
  /** Bytes one Content-Length may declare. */
  readonly maxBodyBytes: number;
}

export const ESL_LIMITS: EslLimits = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
});

/**
 * Incremental framer: feed it whatever the socket delivers, in any chunking; it calls `onMessage`
 * once per complete message, in order. Chunks are kept as they came and joined once, when they hold
 * a whole header block or body, so a message arriving in many pieces is copied once, not once per
 * piece. A message past `limits` throws CG_ERR_ESL_PROTOCOL before more of it is kept; the parser is
 * of no further use then (the connection is cut).
 */
export class EslParser {
  /** Bytes received and not framed yet, in order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingHeaders: EslHeaders | null = null;
  private bodyLength = 0;

  constructor(
    private readonly onMessage: (message: EslMessage) => void,
    private readonly limits: EslLimits = ESL_LIMITS,
  ) {}

  push(chunk: Buffer): void {
    if (!this.completes(chunk)) {
      this.keep(chunk);
      return;
    }
    const data =
      this.pending.length === 0
        ? chunk
        : Buffer.concat([...this.pending, chunk], this.pendingBytes + chunk.length);
    this.pending = [];
    this.pendingBytes = 0;
    this.keep(this.frame(data));
  }

  /** Whether `chunk` may finish the header block or body being waited for (a cheap, safe guess). */
  private completes(chunk: Buffer): boolean {
    if (this.pendingHeaders) return this.pendingBytes + chunk.length >= this.bodyLength;
    const last = this.pending.at(-1);
    return (
      (last !== undefined && last[last.length - 1] === LF && chunk[0] === LF) || chunk.includes(BLANK_LINE)
    );
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (!this.pendingHeaders && this.pendingBytes > this.limits.maxHeaderBytes) {
      throw headerTooLarge(this.limits);
    }
  }

  /** Emits every whole message at the front of `data`; returns the rest (a message begun). */
  private frame(data: Buffer): Buffer {
    let at = 0;
    for (;;) {
      if (this.pendingHeaders) {
        if (data.length - at < this.bodyLength) return data.subarray(at);
        const body = data.toString('utf8', at, at + this.bodyLength);
        const headers = this.pendingHeaders;
        at += this.bodyLength;
        this.pendingHeaders = null;
        this.onMessage({ headers, body });
        continue;
      }
      // Stray newlines between messages carry nothing.
      while (at < data.length && data[at] === LF) at++;
      const end = data.indexOf(BLANK_LINE, at);
      if (end === -1) return data.subarray(at);
      if (end - at > this.limits.maxHeaderBytes) throw headerTooLarge(this.limits);
      const headers = parseHeaderBlock(data.toString('utf8', at, end));
      at = end + 2;
      const length = Number.parseInt(headers['Content-Length'] ?? '', 10);
      if (Number.isFinite(length) && length > 0) {
        if (length > this.limits.maxBodyBytes) {
          throw cgError(
            'CG_ERR_ESL_PROTOCOL',
            `the event socket peer declared Content-Length ${length}, more than the ${this.limits.maxBodyBytes} bytes accepted`,
          );
        }
        this.pendingHeaders = headers;
        this.bodyLength = length;
      } else {
        this.onMessage({ headers });
      }
    }
  }
}

const BLANK_LINE = Buffer.from('\n\n');

function headerTooLarge(limits: EslLimits): Error {
  return cgError(
    'CG_ERR_ESL_PROTOCOL',
    `the event socket peer sent a header block longer than the ${limits.maxHeaderBytes} bytes accepted`,
  );
}

/** The event inside a text/event-plain or text/event-json message; undefined for anything else. */
export function eventOf(message: EslMessage): EslEvent | undefined {
  const type = message.headers['Content-Type'];
  if (type === 'text/event-plain' && message.body !== undefined) return new PlainEvent(message.body);
  if (type === 'text/event-json' && message.body !== undefined) return new JsonEvent(message.body);
  return undefined;
}

/** An event whose headers are split only when asked for; `get` may read one header in place first. */
abstract class LazyEvent implements EslEvent {
  abstract readonly name: string;
  private parsed: EslEvent | undefined;

  constructor(protected readonly text: string) {}

  get headers(): EslHeaders {
    return this.parse().headers;
  }

  get body(): string | undefined {
    return this.parse().body;
  }

  get(name: string): string | undefined {
    return this.parsed ? this.parsed.headers[name] : this.peek(name);
  }

  protected abstract parseText(text: string): EslEvent;
  /** One header read without parsing the whole event. */
  protected abstract peek(name: string): string | undefined;

  protected parse(): EslEvent {
    this.parsed ??= this.parseText(this.text);
    return this.parsed;
  }
}

/**
 * A text/event-plain body, read lazily: most events a call sees (CHANNEL_EXECUTE, CHANNEL_STATE, ...)
 * are looked at only for their name, so the hundred-odd headers are split and decoded only when asked.
 */
class PlainEvent extends LazyEvent {
  readonly name: string;

  constructor(text: string) {
    super(text);
    this.name = headerValue(text, 'Event-Name') ?? '';
  }

  protected parseText(text: string): EslEvent {
    return parsePlainEvent(text);
  }

  protected peek(name: string): string | undefined {
    const split = this.text.indexOf('\n\n');
    return headerValue(split === -1 ? this.text : this.text.slice(0, split), name);
  }
}

/** A text/event-json body, parsed on first use of its headers. */
class JsonEvent extends LazyEvent {
  readonly name: string;

  constructor(text: string) {
    super(text);
    const m = /"Event-Name":"([^"\\]*)"/.exec(text.length > 256 ? text.slice(0, 256) : text);
    this.name = m ? m[1] : this.parse().name;
  }

  protected parseText(text: string): EslEvent {
    return parseJsonEvent(text);
  }

  // A plain "Name":"value" with no escapes in it is read in place; anything else parses the lot.
  protected peek(name: string): string | undefined {
    const key = `"${name}":"`;
    const at = this.text.indexOf(key);
    if (at === -1) return this.text.includes(`"${name}":`) ? this.parse().headers[name] : undefined;
    const end = this.text.indexOf('"', at + key.length);
    const value = this.text.slice(at + key.length, end);
    return value.includes('\\') ? this.parse().headers[name] : value;
  }
}

/** One header of a plain block without splitting the rest (`Name: value` at a line start). */
function headerValue(text: string, name: string): string | undefined {
  const key = `${name}: `;
  let at = text.startsWith(key) ? 0 : text.indexOf(`\n${key}`);
  if (at === -1) return undefined;
  if (at > 0) at += 1;
  const end = text.indexOf('\n', at);
  return urlDecode(text.slice(at + key.length, end === -1 ? text.length : end));
}

export function parsePlainEvent(text: string): EslEvent {
  const split = text.indexOf('\n\n');
  const headerText = split === -1 ? text : text.slice(0, split);
  const headers = parseHeaderBlock(headerText);
  let body: string | undefined;
  const length = Number.parseInt(headers['Content-Length'] ?? '', 10);
  if (split !== -1 && Number.isFinite(length) && length > 0) {
    // Content-Length counts bytes; the body is the rest of the event, so take it whole.
    body = text.slice(split + 2);
  }
  return { name: headers['Event-Name'] ?? '', headers, body };
}

export function parseJsonEvent(text: string): EslEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { name: '', headers: {} };
  }
  const headers: EslHeaders = {};
  let body: string | undefined;
  if (parsed && typeof parsed === 'object') {
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (name === '_body') body = typeof value === 'string' ? value : undefined;
      else if (typeof value === 'string') headers[name] = value;
    }
  }
  return { name: headers['Event-Name'] ?? '', headers, body };
}

/** A header value may not carry a line break: it would end the header (or the whole command). */
export function headerSafe(value: string): string {
  return /[\r\n]/.test(value) ? value.replace(/[\r\n]+/g, ' ') : value;
}

/** One socket command (`api uuid_kill ...`, `myevents`, `exit`), framed. */
export function encodeCommand(command: string, headers?: Readonly<Record<string, string>>): string {
  let out = `${headerSafe(command)}\n`;
  if (headers) for (const name in headers) out += `${name}: ${headerSafe(headers[name])}\n`;
  return `${out}\n`;
}

/** `sendmsg` to the controlled channel (outbound mode: no uuid needed). */
export function encodeSendmsg(headers: Readonly<Record<string, string>>, uuid?: string): string {
  return encodeCommand(uuid ? `sendmsg ${uuid}` : 'sendmsg', headers);
}
