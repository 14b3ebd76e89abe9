import { after, before } from 'node:test';
import { runCallGateContract } from '../contract/call-gate-contract.js';
import { runCallHandlingContract } from '../contract/call-handling-contract.js';
import { runPbxTextContract } from '../contract/pbx-text-contract.js';
import { EslInboundHarness, EslOutboundHarness } from './esl-harness.js';

// The shared redis-down scenario bounds its registry.stop() with an unref'd 2 s timer; our harness
// lets go of every socket on stop(), so without another handle the event loop can empty while that
// race is pending and node:test cancels the rest of the file. A ref'd interval for the length of the
// file keeps the bound a bound; a real hang in the app still fails the test by its timeout.
let keepAlive: NodeJS.Timeout | undefined;
before(() => {
  keepAlive = setInterval(() => {}, 1000);
});
after(() => clearInterval(keepAlive));

runCallHandlingContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runCallHandlingContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());

runPbxTextContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runPbxTextContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());
runCallGateContract('FreeSWITCH ESL outbound socket mode', () => new EslOutboundHarness());
runCallGateContract('FreeSWITCH ESL inbound mode', () => new EslInboundHarness());
