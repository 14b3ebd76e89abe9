import { runCallHandlingContract } from '../contract/call-handling-contract.js';
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
