import type { Rule } from '../src/domain/rule.js';
import { CONTRACT_RULES, DNC_GROUP, WRAP_TYPE } from '../test/pbx/contract/contract-tenants.js';

/** The bar both PBX benchmarks hold the apps to: p99 decision latency at 200 calls/s. */
export const P99_BAR_MS = 5;

/** `--name value` from the benchmark's arguments. */
export function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

/** The contract tenant's rules plus `extra` exact outbound wrap-up blocks, as a sizeable DNC list. */
export function tenantRules(extra: number): Rule[] {
  const rules: Rule[] = [...CONTRACT_RULES];
  for (let i = 0; i < extra; i++) {
    rules.push({
      id: 1000 + i,
      called: String(12_025_550_000 + i * 7),
      direction: 'outbound',
      action: 'block',
      groupId: DNC_GROUP,
      typeId: WRAP_TYPE,
      updatedAt: 1_700_000_000_000,
    });
  }
  return rules;
}
