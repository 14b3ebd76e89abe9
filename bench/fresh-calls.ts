import { type CallContext, toCallContext } from '../src/domain/call-context.js';
import { DIGITS_POLICY } from '../src/domain/number.js';

/**
 * Calls as the call path hands them to decide(): numbers just cut out of a PBX event's text and the
 * context just built by the production normaliser.
 *
 * - FreeSWITCH: the ESL codec cuts each header value out of the event text with `text.slice()`
 *   (src/pbx/freeswitch/esl-codec.ts), and `callFromChannel` (src/pbx/freeswitch/channel-call.ts)
 *   takes `Caller-Destination-Number` and `Caller-Caller-ID-Number` as they are.
 * - Asterisk: `JSON.parse` of the ARI event (src/pbx/asterisk/ari-http-client.ts); the reader takes
 *   `dialplan.exten` and `caller.number` (src/pbx/asterisk/ari-call-reader.ts). V8's JSON parser
 *   internalises (and so hashes) string values of up to 10 characters only; an 11-12 digit number
 *   arrives as a fresh string, like a slice.
 * - Both go through `toCallContext` (src/call/call-screener.ts), which builds a new context object
 *   per call; normalizeCallingNumber looks the calling number up in its set of anonymous words, so
 *   V8 has hashed the calling number before decide() runs, and not the called one.
 *
 * Every contender of the engine benchmark gets its own fresh contexts made this way, in batches made
 * (untimed) just before the batch is timed: hot in cache, as a decision's inputs are in production.
 */
export class FreshCalls {
  private readonly text: string;
  /** Per call: called start, called end, calling start, calling end in `text`. */
  private readonly at: Int32Array;

  constructor(private readonly calls: readonly CallContext[]) {
    const parts: string[] = [];
    this.at = new Int32Array(calls.length * 4);
    let pos = 0;
    calls.forEach((c, i) => {
      for (const [k, number] of [
        [0, c.called],
        [2, c.calling],
      ] as const) {
        pos += 'Caller-Number: '.length;
        this.at[i * 4 + k] = pos;
        pos += number.length;
        this.at[i * 4 + k + 1] = pos;
        parts.push('Caller-Number: ', number);
        pos += 1;
        parts.push('\n');
      }
    });
    // join() gives one flat string, as a socket read does.
    this.text = parts.join('');
  }

  /** Call i (modulo count) with fresh numbers and a fresh context. */
  // hot path
  make(i: number): CallContext {
    const k = i % this.calls.length;
    const c = this.calls[k];
    const at = this.at;
    const o = k * 4;
    return toCallContext(
      {
        called: this.text.slice(at[o], at[o + 1]),
        calling: this.text.slice(at[o + 2], at[o + 3]),
        direction: c.direction,
        task: c.task,
        user: c.user,
        at: c.at,
      },
      DIGITS_POLICY,
      c.at,
    );
  }
}
