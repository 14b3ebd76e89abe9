import { admitCall, type GateResult } from '../call-gate.js';
import type { EslHeaders } from './esl-codec.js';

/**
 * Reads the call callguard screens off a channel's headers (the outbound `connect` reply or a
 * CHANNEL_PARK event; both carry the caller profile and `variable_*`) and passes it through the
 * gate both adapters share (src/pbx/call-gate.ts).
 */
export function callFromChannel(headers: EslHeaders, defaultTenant?: string): GateResult {
  return admitCall(
    {
      callId: headers['Unique-ID'] ?? headers['Channel-Unique-ID'] ?? headers['Caller-Unique-ID'],
      direction: headers.variable_CALLGUARD_DIRECTION,
      tenant: headers.variable_CALLGUARD_TENANT,
      task: headers.variable_CALLGUARD_TASK,
      agent: headers.variable_CALLGUARD_AGENT,
      called: headers['Caller-Destination-Number'] ?? headers['Channel-Destination-Number'],
      // An empty caller id reaches the socket as 0000000000; the domain treats all zeros as anonymous.
      calling: headers['Caller-Caller-ID-Number'] ?? headers['Channel-Caller-ID-Number'],
      sbc: headers.variable_CALLGUARD_SBC,
      provider: headers.variable_CALLGUARD_PROVIDER,
      customerGroup: headers.variable_CALLGUARD_CUSTOMER_GROUP,
      user: headers.variable_CALLGUARD_USER,
    },
    { defaultTenant },
  );
}
