import { runCallHandlingContract } from '../contract/call-handling-contract.js';
import { EslInboundHarness, EslOutboundHarness } from './esl-harness.js';

runCallHandlingContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runCallHandlingContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());
