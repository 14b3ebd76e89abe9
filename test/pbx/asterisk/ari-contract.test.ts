import { runCallGateContract } from '../contract/call-gate-contract.js';
import { runCallHandlingContract } from '../contract/call-handling-contract.js';
import { runPbxTextContract } from '../contract/pbx-text-contract.js';
import { AriHarness } from './ari-harness.js';

runCallHandlingContract('asterisk ARI (undici + ws client)', () => new AriHarness('undici'));
runCallHandlingContract('asterisk ARI (ari-client)', () => new AriHarness('ari-client'));
runCallHandlingContract(
  'asterisk ARI (undici + ws, ari.conf channelvars)',
  () =>
    new AriHarness('undici', {
      channelvars: ['CALLGUARD_TENANT', 'CALLGUARD_TASK', 'CALLGUARD_AGENT', 'CALLGUARD_DIRECTION'],
    }),
);

runPbxTextContract('asterisk ARI (undici + ws client)', () => new AriHarness('undici'));
runCallGateContract('asterisk ARI (undici + ws client)', () => new AriHarness('undici'));
