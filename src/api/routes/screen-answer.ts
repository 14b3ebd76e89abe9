import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { csvDataLine, plainDataCell } from '../../jobs/csv-writer.js';

/**
 * What a blocked number's entry says after its index, number and rule: the operation, the type, the
 * business result and, for a contact policy's refusal, the policy and its reason, in the order the
 * answer lists them. One object is shared by every entry of the same rule type (or refusal), so that
 * a list of 50,000 blocks builds a handful of these and writes each one's JSON once.
 */
export interface HitOutcome {
  readonly operation: 'none' | 'auto_wrap_up' | 'pop_up';
  readonly typeId?: string;
  readonly businessResult?: string;
  readonly policyId?: string;
  readonly reason?: string;
}

/** A blocked number: in the answer, `{index, number, ruleId, ...outcome}`. */
export interface Hit {
  readonly index: number;
  readonly number: string;
  /** null: a rule outside the OUs of an agent confined to them. */
  ruleId: number | null;
  outcome: HitOutcome;
}

export interface ScreenError {
  readonly index: number;
  readonly number: string;
  readonly message: string;
}

export interface Screened {
  total: number;
  blocked: number;
  allowed: number;
  invalid: number;
  results: Hit[];
  errors: ScreenError[];
}

/** Lines per chunk of a CSV answer (and of NDJSON's error lines): one write per line would cost more than the screening. */
export const ENTRIES_PER_CHUNK = 2_000;

/** An entry's number as it is between quotes: printable ASCII without quote or backslash (one byte a character). */
const PLAIN_ASCII = /^[ !#-[\]-~]*$/;
const OPEN = Buffer.from('{"index":');
const NUMBER = Buffer.from(',"number":');
const RULE = Buffer.from(',"ruleId":');
const NULL = Buffer.from('null');
/** The size of a chunk of entries (about 2,000 of the usual 120 bytes). */
export const CHUNK_BYTES = 256 * 1024;

/** `v` written at `at` as JSON writes it; the position after it. */
function writeInt(buf: Buffer, at: number, v: number | null): number {
  if (v === null) {
    buf.set(NULL, at);
    return at + NULL.length;
  }
  if (!Number.isSafeInteger(v) || v < 0) return at + buf.write(JSON.stringify(v), at, 'latin1');
  // digits from the last: x % 10 of a safe integer is exact
  let end = at + 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) end++;
  for (let i = end - 1, x = v; i >= at; i--, x = Math.floor(x / 10)) buf[i] = 48 + (x % 10);
  return end;
}

/** `text` (one byte a character) written at `at`; the position after it. A loop: numbers are short. */
function writeAscii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * The JSON of hits written straight into buffers, each entry as JSON.stringify writes `{index, number,
 * ruleId, ...outcome}` (property tested): the outcome's part is encoded once per shared outcome object,
 * numbers and ids are written as bytes, so neither a 6 MB string nor its UTF-8 copy is ever made.
 * Entries are separated by `separator`, also written after the last one when `trailing`; a buffer is
 * yielded when the next entry does not fit in it (chunks of about CHUNK_BYTES).
 */
function* hitEntries(results: readonly Hit[], separator: string, trailing: boolean): Generator<Buffer> {
  const sep = separator.charCodeAt(0);
  const tails = new Map<HitOutcome, Buffer>();
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = 0;
  for (let i = 0; i < results.length; i++) {
    const h = results[i]!;
    let tail = tails.get(h.outcome);
    if (tail === undefined) {
      const json = JSON.stringify(h.outcome);
      // `{"operation":…}` → `,"operation":…}`; an outcome with no field left is `}`
      tail = Buffer.from(json === '{}' ? '}' : `,${json.slice(1)}`);
      tails.set(h.outcome, tail);
    }
    const plain = PLAIN_ASCII.test(h.number);
    const number = plain ? h.number : JSON.stringify(h.number);
    // separator, fixed parts, two integers of at most 24 bytes, the number (UTF-8: 3 bytes a code unit at most)
    const bytes = 1 + OPEN.length + NUMBER.length + RULE.length + 48 + 2 + number.length * 3 + tail.length;
    if (at + bytes > buf.length) {
      yield buf.subarray(0, at);
      buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
      at = 0;
    }
    if (i > 0) buf[at++] = sep;
    buf.set(OPEN, at);
    at = writeInt(buf, at + OPEN.length, h.index);
    buf.set(NUMBER, at);
    at += NUMBER.length;
    if (plain) {
      buf[at] = 34;
      at = writeAscii(buf, at + 1, number);
      buf[at++] = 34;
    } else at += buf.write(number, at, 'utf8');
    buf.set(RULE, at);
    at = writeInt(buf, at + RULE.length, h.ruleId);
    buf.set(tail, at);
    at += tail.length;
  }
  if (trailing && results.length > 0) {
    if (at === buf.length) {
      yield buf;
      buf = Buffer.allocUnsafe(1);
      at = 0;
    }
    buf[at++] = sep;
  }
  if (at > 0) yield buf.subarray(0, at);
}

/**
 * The JSON answer `{taskId?, total, blocked, allowed, invalid, results, errors}`, byte for byte what
 * JSON.stringify writes for it (property tested), in chunks of about CHUNK_BYTES. A generator: sent
 * through answerStream, a large answer neither waits to be whole before its first byte leaves nor
 * holds the event loop while it is written.
 */
export function* jsonAnswer(task: string | undefined, s: Screened): Generator<string | Buffer> {
  const head = task === undefined ? '{' : `{"taskId":${JSON.stringify(task)},`;
  yield `${head}"total":${s.total},"blocked":${s.blocked},"allowed":${s.allowed},"invalid":${s.invalid},"results":[`;
  yield* hitEntries(s.results, ',', false);
  yield `],"errors":${JSON.stringify(s.errors)}}`;
}

/** One JSON line per hit, then one per error, then the counts; in chunks. */
export function* ndjsonAnswer(task: string | undefined, s: Screened): Generator<string | Buffer> {
  yield* hitEntries(s.results, '\n', true);
  yield* chunked(s.errors, (e) => `${JSON.stringify({ error: e })}\n`);
  const { results: _r, errors: _e, ...counts } = s;
  yield `${JSON.stringify({ counts: { taskId: task, ...counts } })}\n`;
}

const CSV_HEADER = 'index,number,rule_id,type_id,operation,business_result,policy_id,reason\n';

/**
 * The header and one CSV line per hit, in chunks of ENTRIES_PER_CHUNK lines. The outcome's cells are
 * joined once per shared outcome object; a line whose cells all go as they are is the cells joined
 * (csvDataLine's own rule), any other line is written by csvDataLine.
 */
export function* csvAnswer(s: Screened): Generator<string> {
  yield CSV_HEADER;
  const cellsOf = (o: HitOutcome) => [
    o.typeId ?? '',
    o.operation,
    o.businessResult ?? '',
    o.policyId ?? '',
    o.reason ?? '',
  ];
  // an outcome → its cells joined with the line end, or null when one of them needs quoting
  const tails = new Map<HitOutcome, string | null>();
  yield* chunked(s.results, (h) => {
    let tail = tails.get(h.outcome);
    if (tail === undefined) {
      const cells = cellsOf(h.outcome);
      tail = cells.every(plainDataCell) ? `${cells.join(',')}\n` : null;
      tails.set(h.outcome, tail);
    }
    const ruleId = h.ruleId === null ? '' : String(h.ruleId);
    if (tail !== null && plainDataCell(h.number)) return `${h.index},${h.number},${ruleId},${tail}`;
    return csvDataLine([String(h.index), h.number, ruleId, ...cellsOf(h.outcome)]);
  });
  // Numbers that could not be screened are listed too, or a reader taking "not listed" for "clear
  // to dial" would dial them: operation `invalid`, the reason in its column.
  yield* chunked(s.errors, (e) =>
    csvDataLine([String(e.index), e.number, '', '', 'invalid', '', '', e.message]),
  );
}

/** `items` written by `line` and joined into chunks of ENTRIES_PER_CHUNK lines. */
function* chunked<T>(items: readonly T[], line: (item: T) => string): Generator<string> {
  for (let start = 0; start < items.length; start += ENTRIES_PER_CHUNK) {
    const end = Math.min(items.length, start + ENTRIES_PER_CHUNK);
    const lines: string[] = [];
    for (let i = start; i < end; i++) lines.push(line(items[i]!));
    yield lines.join('');
  }
}

/**
 * The answer's chunks as a stream that lets the event loop run between two chunks. A stream of a
 * plain iterable writes every chunk in one go for as long as the socket takes them (over loopback,
 * megabytes): the whole answer on the loop at once.
 */
export function answerStream(chunks: Iterable<string | Buffer>): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        yield chunk;
        await yieldToLoop();
      }
    })(),
  );
}
