/**
 * The FreeSWITCH event socket wire format, both directions. A message is a block of `Name: value`
 * lines ended by an empty line, followed by exactly Content-Length bytes of body when that header is
 * present. Header order is not fixed (the outbound `connect` reply puts Content-Type near the end and
 * has no Content-Length), so framing looks only at `\n\n` and Content-Length.
 */

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
 * Incremental framer: feed it whatever the socket delivers, in any chunking; it calls `onMessage`
 * once per complete message, in order.
 */
export class EslParser {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where the search for `\n\n` resumes, so a header block arriving byte by byte is scanned once. */
  private scanFrom = 0;
  private pendingHeaders: EslHeaders | null = null;
  private bodyLength = 0;

  constructor(private readonly onMessage: (message: EslMessage) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.pendingHeaders) {
        if (this.buffer.length < this.bodyLength) return;
        const body = this.buffer.toString('utf8', 0, this.bodyLength);
        const headers = this.pendingHeaders;
        this.buffer = this.buffer.subarray(this.bodyLength);
        this.pendingHeaders = null;
        this.onMessage({ headers, body });
        continue;
      }
      // Stray newlines between messages carry nothing.
      let lead = 0;
      while (lead < this.buffer.length && this.buffer[lead] === LF) lead++;
      if (lead > 0) {
        this.buffer = this.buffer.subarray(lead);
        this.scanFrom = 0;
      }
      const end = this.findBlankLine();
      if (end === -1) return;
      const headers = parseHeaderBlock(this.buffer.toString('utf8', 0, end));
      this.buffer = this.buffer.subarray(end + 2);
      this.scanFrom = 0;
      const length = Number.parseInt(headers['Content-Length'] ?? '', 10);
      if (Number.isFinite(length) && length > 0) {
        this.pendingHeaders = headers;
        this.bodyLength = length;
      } else {
        this.onMessage({ headers });
      }
    }
  }

  private findBlankLine(): number {
    const buf = this.buffer;
    let i = this.scanFrom;
    for (;;) {
      const nl = buf.indexOf(LF, i);
      if (nl === -1 || nl + 1 >= buf.length) {
        this.scanFrom = nl === -1 ? buf.length : nl;
        return -1;
      }
      if (buf[nl + 1] === LF) return nl;
      i = nl + 1;
    }
  }
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
