import { runCallGateContract } from '../contract/call-gate-contract.js';
import { runCallHandlingContract } from '../contract/call-handling-contract.js';
import { runPbxTextContract } from '../contract/pbx-text-contract.js';
import { EslInboundHarness, EslOutboundHarness } from './esl-harness.js';

runCallHandlingContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runCallHandlingContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());

runPbxTextContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runPbxTextContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());
runCallGateContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runCallGateContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());
