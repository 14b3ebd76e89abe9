import type { CallDirection } from '../../domain/rule.js';
import type { IncomingCall } from '../incoming-call.js';
import type { EslHeaders } from './esl-codec.js';

export type ChannelGate =
  | { readonly ok: true; readonly call: IncomingCall }
  | { readonly ok: false; readonly reason: string };

const DIRECTIONS: ReadonlySet<string> = new Set(['inbound', 'outbound']);

const optional = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

/**
 * Reads the call callguard screens off a channel's headers (the outbound `connect` reply or a
 * CHANNEL_PARK event; both carry the caller profile and `variable_*`). A small gate: a channel this
 * cannot be read from is turned away with a reason instead of being screened on guesses.
 */
export function callFromChannel(headers: EslHeaders, defaultTenant: string): ChannelGate {
  const callId = headers['Unique-ID'] ?? headers['Channel-Unique-ID'] ?? headers['Caller-Unique-ID'];
  if (!callId) return { ok: false, reason: 'the channel data carries no Unique-ID' };
  const direction = optional(headers.variable_CALLGUARD_DIRECTION) ?? 'inbound';
  if (!DIRECTIONS.has(direction)) {
    return { ok: false, reason: `CALLGUARD_DIRECTION is "${direction}"; inbound or outbound is accepted` };
  }
  const called = headers['Caller-Destination-Number'] ?? headers['Channel-Destination-Number'] ?? '';
  // An empty caller id reaches the socket as 0000000000; the domain treats all zeros as anonymous.
  const calling = headers['Caller-Caller-ID-Number'] ?? headers['Channel-Caller-ID-Number'];
  return {
    ok: true,
    call: {
      callId,
      tenant: optional(headers.variable_CALLGUARD_TENANT) ?? defaultTenant,
      direction: direction as CallDirection,
      called,
      calling,
      task: optional(headers.variable_CALLGUARD_TASK),
      agent: optional(headers.variable_CALLGUARD_AGENT),
      sbc: optional(headers.variable_CALLGUARD_SBC),
      provider: optional(headers.variable_CALLGUARD_PROVIDER),
      customerGroup: optional(headers.variable_CALLGUARD_CUSTOMER_GROUP),
      user: optional(headers.variable_CALLGUARD_USER),
    },
  };
}
