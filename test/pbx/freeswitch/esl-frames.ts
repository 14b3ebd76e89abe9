import { recordedMessage } from './esl-recordings.js';

/**
 * Frames for the ESL double, cut from the recorded FreeSWITCH traffic: a recorded CHANNEL_DATA reply
 * or event is the template, and only what identifies the call (uuids, numbers, channel name,
 * context, direction, the CALLGUARD_* variables) is substituted. Header order, the URL encoding of
 * plain values, the JSON shape and the framing stay as FreeSWITCH wrote them.
 */

type Value = string | string[];
type Pairs = Array<[string, Value]>;

export interface ChannelFacts {
  uuid: string;
  otherUuid: string;
  /** Caller id number as FreeSWITCH reports it (an empty caller id is 0000000000). */
  calling: string;
  called: string;
  context: string;
  leg: 'a' | 'b';
  callDirection: 'inbound' | 'outbound';
  /** Channel variables beginning CALLGUARD_ (set by the dialplan or by the app). */
  vars: Record<string, string>;
}

export interface EventTemplate {
  readonly pairs: Pairs;
  readonly body?: string;
}

/** FreeSWITCH's switch_url_encode: these characters (and anything outside printable ASCII) are escaped. */
const UNSAFE = new Set('\r\n "#%&+:;<=>?@[\\]^`{|}'.split(''));

const NEEDS_ENCODING = /[^\x21-\x7e]|["#%&+:;<=>?@[\\\]^`{|}]/;

export function fsUrlEncode(value: string): string {
  if (!NEEDS_ENCODING.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (UNSAFE.has(ch) || code < 0x20 || code > 0x7e) {
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += ch;
  }
  return out;
}

function pairsOfHeaderBlock(block: string): Pairs {
  const pairs: Pairs = [];
  for (const line of block.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) pairs.push([line.slice(0, i), decodeURIComponent(line.slice(i + 2))]);
  }
  return pairs;
}

function templateOfPlainEvent(raw: string): EventTemplate {
  const inner = raw.slice(raw.indexOf('\n\n') + 2);
  const split = inner.indexOf('\n\n');
  const pairs = pairsOfHeaderBlock(inner.slice(0, split));
  const rest = inner.slice(split + 2);
  return { pairs: pairs.filter(([n]) => n !== 'Content-Length'), body: rest === '' ? undefined : rest };
}

function templateOfJsonEvent(raw: string): EventTemplate {
  const obj = JSON.parse(raw.slice(raw.indexOf('\n\n') + 2)) as Record<string, Value>;
  const body = typeof obj._body === 'string' ? obj._body : undefined;
  const pairs = Object.entries(obj).filter(([n]) => n !== '_body' && n !== 'Content-Length');
  return { pairs, body };
}

const UUID_HEADERS = new Set([
  'Unique-ID',
  'Channel-Unique-ID',
  'Caller-Unique-ID',
  'Channel-Call-UUID',
  'variable_uuid',
  'variable_call_uuid',
  'Controlled-Session-UUID',
]);
const OTHER_UUID_HEADERS = new Set(['variable_other_loopback_leg_uuid', 'variable_origination_uuid']);
const CALLING_HEADERS = new Set([
  'Caller-Caller-ID-Number',
  'Channel-Caller-ID-Number',
  'Caller-Orig-Caller-ID-Number',
  'Channel-Orig-Caller-ID-Number',
  'Caller-ANI',
  'Channel-ANI',
  'variable_origination_caller_id_number',
]);
const CALLED_HEADERS = new Set(['Caller-Destination-Number', 'Channel-Destination-Number']);
const NAME_HEADERS = new Set([
  'Channel-Name',
  'Caller-Channel-Name',
  'Channel-Channel-Name',
  'variable_channel_name',
]);
const CONTEXT_HEADERS = new Set(['Caller-Context', 'Channel-Context']);
const DIRECTION_HEADERS = new Set([
  'Call-Direction',
  'Presence-Call-Direction',
  'Channel-Direction',
  'Channel-Logical-Direction',
  'Caller-Direction',
  'Caller-Logical-Direction',
  'variable_direction',
]);

let sequence = 5000;

/** The template's pairs with the call's facts put in. */
export function substitute(
  t: EventTemplate,
  facts: ChannelFacts,
  overrides: Record<string, string> = {},
): Pairs {
  const out: Pairs = [];
  let varsAt = -1;
  for (const [name, value] of t.pairs) {
    if (name.startsWith('variable_CALLGUARD_')) {
      if (varsAt === -1) varsAt = out.length;
      continue;
    }
    let v: Value = value;
    if (UUID_HEADERS.has(name)) v = facts.uuid;
    else if (OTHER_UUID_HEADERS.has(name)) v = facts.otherUuid;
    else if (CALLING_HEADERS.has(name)) v = facts.calling;
    else if (CALLED_HEADERS.has(name)) v = facts.called;
    else if (NAME_HEADERS.has(name)) v = `loopback/${facts.called}-${facts.leg}`;
    else if (CONTEXT_HEADERS.has(name)) v = facts.context;
    else if (DIRECTION_HEADERS.has(name)) v = facts.callDirection;
    else if (name === 'variable_loopback_leg') v = facts.leg.toUpperCase();
    else if (name === 'variable_DP_MATCH') {
      v = Array.isArray(value) ? [facts.called, facts.called] : `ARRAY::${facts.called}|:${facts.called}`;
    } else if (name === 'Event-Sequence') v = String(++sequence);
    else if (name === 'Event-Date-Timestamp') v = String(Date.now() * 1000);
    out.push([name, v]);
  }
  const vars: Pairs = Object.entries(facts.vars).map(([n, v]) => [`variable_${n}`, v]);
  out.splice(varsAt === -1 ? out.length : varsAt, 0, ...vars);
  for (const [name, value] of Object.entries(overrides)) {
    let found = false;
    for (const pair of out) {
      if (pair[0] === name) {
        pair[1] = value;
        found = true;
      }
    }
    if (!found) out.push([name, value]);
  }
  return out;
}

const plainValue = (v: Value): string => fsUrlEncode(Array.isArray(v) ? `ARRAY::${v.join('|:')}` : v);

export function renderPlainEvent(pairs: Pairs, body?: string): string {
  let inner = '';
  for (const [n, v] of pairs) inner += `${n}: ${plainValue(v)}\n`;
  if (body !== undefined) inner += `Content-Length: ${Buffer.byteLength(body)}\n`;
  inner += `\n${body ?? ''}`;
  return `Content-Length: ${Buffer.byteLength(inner)}\nContent-Type: text/event-plain\n\n${inner}`;
}

export function renderJsonEvent(pairs: Pairs, body?: string): string {
  const obj: Record<string, Value> = {};
  for (const [n, v] of pairs) obj[n] = v;
  if (body !== undefined) {
    obj['Content-Length'] = String(Buffer.byteLength(body));
    obj._body = body;
  }
  const json = JSON.stringify(obj);
  return `Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`;
}

export function renderEvent(format: 'plain' | 'json', pairs: Pairs, body?: string): string {
  return format === 'plain' ? renderPlainEvent(pairs, body) : renderJsonEvent(pairs, body);
}

/** The outbound connect reply: a CHANNEL_DATA event serialized into the reply's own headers. */
export function renderConnectReply(pairs: Pairs): string {
  let out = '';
  for (const [n, v] of pairs) out += `${n}: ${plainValue(v)}\n`;
  return `${out}\n`;
}

export const reply = (text: string, extra = ''): string =>
  `Content-Type: command/reply\nReply-Text: ${text}\n${extra}\n`;

export const apiResponse = (text: string): string =>
  `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`;

const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export const disconnectNotice = (uuid?: string): string =>
  uuid
    ? `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: disconnect\nContent-Length: ${GOODBYE.length}\n\n${GOODBYE}`
    : `Content-Type: text/disconnect-notice\nContent-Length: ${GOODBYE.length}\n\n${GOODBYE}`;

export const lingerNotice = (uuid: string): string =>
  `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: linger\nLinger-Time: -1\nContent-Length: 0\n\n`;

const byEvent =
  (name: string, app?: string) =>
  (l: { event_name?: string | null; raw?: string }): boolean =>
    l.event_name === name && (app === undefined || (l.raw ?? '').includes(`Application: ${app}\n`));

/** Every template the double uses, read once from the recordings. */
export function loadTemplates() {
  const OUT = 'outbound-mode/a-blocked-pipelined';
  const connectRaw = recordedMessage(OUT, (l) => (l.raw ?? '').startsWith('Event-Name: CHANNEL_DATA'));
  return {
    connectReply: { pairs: pairsOfHeaderBlock(connectRaw) } as EventTemplate,
    outbound: {
      execute: templateOfPlainEvent(recordedMessage(OUT, byEvent('CHANNEL_EXECUTE', 'set'))),
      executeComplete: templateOfPlainEvent(recordedMessage(OUT, byEvent('CHANNEL_EXECUTE_COMPLETE', 'set'))),
      hangup: templateOfPlainEvent(recordedMessage(OUT, byEvent('CHANNEL_HANGUP'))),
      hangupComplete: templateOfPlainEvent(recordedMessage(OUT, byEvent('CHANNEL_HANGUP_COMPLETE'))),
    },
    inbound: {
      plain: {
        park: templateOfPlainEvent(
          recordedMessage('inbound-mode/plain-park-setvar-kill', byEvent('CHANNEL_PARK')),
        ),
        hangupComplete: templateOfPlainEvent(
          recordedMessage('inbound-mode/plain-park-setvar-kill', byEvent('CHANNEL_HANGUP_COMPLETE')),
        ),
        backgroundJob: templateOfPlainEvent(
          recordedMessage('inbound-mode/plain-park-setvar-kill', byEvent('BACKGROUND_JOB')),
        ),
      },
      json: {
        park: templateOfJsonEvent(
          recordedMessage('inbound-mode/json-park-setvar-transfer', byEvent('CHANNEL_PARK')),
        ),
        hangupComplete: templateOfJsonEvent(
          recordedMessage('inbound-mode/json-park-setvar-transfer', byEvent('CHANNEL_HANGUP_COMPLETE')),
        ),
        backgroundJob: templateOfJsonEvent(
          recordedMessage('inbound-mode/json-park-setvar-transfer', byEvent('BACKGROUND_JOB')),
        ),
      },
    },
  };
}

export type Templates = ReturnType<typeof loadTemplates>;
