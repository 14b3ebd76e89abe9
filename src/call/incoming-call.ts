import type { CallDirection } from '../domain/rule.js';

/** A call as a PBX adapter reads it off the channel, before normalisation. */
export interface IncomingCall {
  /** The PBX's channel id (Asterisk channel id, FreeSWITCH Unique-ID). */
  readonly callId: string;
  readonly tenant: string;
  readonly direction: CallDirection;
  /** Dialled number, raw. */
  readonly called: string;
  /** Caller id number, raw; undefined or '' when the caller sent none. */
  readonly calling?: string;
  readonly task?: string;
  readonly agent?: string;
  readonly sbc?: string;
  readonly provider?: string;
  readonly customerGroup?: string;
  readonly user?: string;
}
