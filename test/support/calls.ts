import type { CallContext } from '../../src/domain/call-context.js';

/** The fixed "now" of the store tests' calls. */
export const CALL_TIME = 1_800_000_000_000;

/** An outbound call to `called` from a fixed number at CALL_TIME; `extra` overrides any field. */
export const outboundCall = (called: string, extra: Partial<CallContext> = {}): CallContext => ({
  called,
  calling: '37120000000',
  direction: 'outbound',
  at: CALL_TIME,
  ...extra,
});
