import type { MatchedRule } from '../domain/decision.js';
import { PRECEDENCE_STEPS, type PrecedenceKey, precedenceStep } from '../domain/precedence.js';

function describe(rule: MatchedRule): string {
  const sides = [
    rule.called !== undefined ? `called ${rule.called}` : undefined,
    rule.calling !== undefined ? `calling ${rule.calling}` : undefined,
  ].filter(Boolean);
  const scope = (['user', 'customerGroup', 'provider', 'sbc', 'callingCountry', 'groupId'] as const)
    .filter((f) => rule[f] !== undefined)
    .map((f) => `${f}=${rule[f]}`);
  return [sides.join(', '), ...scope].join(', ');
}

/** One sentence naming the winning rule and, if there was one, the runner-up it beat and the step that decided. */
export function explainDecision(
  winner: MatchedRule,
  winnerKey: PrecedenceKey,
  runnerUp: MatchedRule | null,
  runnerUpKey: PrecedenceKey | null,
): string {
  const head = `rule ${winner.id} (${describe(winner)}) ${winner.action === 'block' ? 'blocks' : 'allows'}`;
  if (!runnerUp || !runnerUpKey) return `${head}; no other rule matched`;
  const step = precedenceStep(winnerKey, runnerUpKey);
  const on = step >= 0 ? PRECEDENCE_STEPS[step] : 'identity';
  return `${head}; it beat rule ${runnerUp.id} (${describe(runnerUp)}, ${runnerUp.action}) on ${on}`;
}
