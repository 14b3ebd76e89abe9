import type { RawCall } from '../domain/call-context.js';

/**
 * A call as a PBX adapter reads it off the channel, before normalisation: the raw call every face
 * screens (numbers, direction, task, scope) with the channel, tenant and agent it came with.
 */
export interface IncomingCall extends RawCall {
  /** The PBX's channel id (Asterisk channel id, FreeSWITCH Unique-ID). */
  readonly callId: string;
  readonly tenant: string;
  readonly agent?: string;
}
