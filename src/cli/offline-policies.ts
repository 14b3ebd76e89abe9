import { readFile } from 'node:fs/promises';
import { DEFAULT_CALL_HANDLING } from '../call/call-plan.js';
import type { TenantDecider } from '../call/call-screener.js';
import { withPolicies } from '../call/policy-decider.js';
import { TaskPolicies } from '../call/task-policies.js';
import { policySetSchema } from '../domain/contact-policy.js';
import type { NormalizationPolicy } from '../domain/number.js';
import type { DecisionEngine } from '../engine/decision-engine.js';
import { UsageError } from './output.js';

/**
 * The offline engine with the contact policies of a JSON file on top. Offline nothing is counted:
 * caps see no earlier attempts (a scrub checks the windows; the live nodes count).
 */
export async function offlineDecider(
  engine: DecisionEngine,
  policy: NormalizationPolicy,
  file: string,
): Promise<TenantDecider> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--policies ${file}: not a readable JSON file (${(error as Error).message})`);
  }
  const parsed = policySetSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new UsageError(`--policies ${file}: ${issues}`);
  }
  const set = parsed.data;
  const types = new Map([...engine.types()].map((t) => [t.id, t]));
  return withPolicies(
    { policy, handling: DEFAULT_CALL_HANDLING, decide: (ctx) => engine.decide(ctx) },
    {
      tenant: 'offline',
      policies: new TaskPolicies(
        new Map(set.policies.map((p) => [p.id, p])),
        new Map(Object.entries(set.tasks)),
      ),
      counter: undefined,
      typeOf: (id) => types.get(id),
    },
  );
}
