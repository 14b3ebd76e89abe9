import { z } from 'zod';
import { cgError } from '../domain/errors.js';
import { conditionsKey, type Rule } from '../domain/rule.js';
import { type ruleInputSchema, toRule } from '../domain/rule-input.js';
import type { DuplicateMode, WriteStatus } from '../store/rule-repository.js';
import type { ApiDeps } from './api-deps.js';
import { recordChange } from './audit.js';
import type { TenantPrincipal } from './auth.js';
import { assertVisible, assertWritableOu, paramsOf } from './tenant-context.js';

export const duplicatesQuery = z
  .object({
    duplicates: z
      .enum(['reject', 'skip', 'override'])
      .default('reject')
      .describe(
        'A rule with identical conditions exists: reject (409), skip (keep it, 200) or override (replace it).',
      ),
  })
  .strict();

/** How long a write waits for this node's engine to reflect it, so that a check right after sees it. */
const SETTLE_MS = 2_000;

/** Read-your-writes on this node: wait (bounded) until the local synced engine has the change. */
export async function settle(deps: ApiDeps, tenant: string, version: string): Promise<void> {
  if (!version) return;
  await deps.registry.ensure(tenant).waitFor(version, SETTLE_MS);
}

/** Group, type and OU a rule names must exist (a typo would make a rule that never applies). */
export async function checkReferences(
  deps: ApiDeps,
  tenant: string,
  r: Pick<Rule, 'groupId' | 'typeId' | 'ou'>,
): Promise<void> {
  const [group, type, ou] = await Promise.all([
    r.groupId === undefined ? true : deps.catalog.getGroup(tenant, r.groupId),
    r.typeId === undefined ? true : deps.catalog.getType(tenant, r.typeId),
    r.ou === undefined ? true : deps.catalog.getOu(tenant, r.ou),
  ]);
  const missing: string[] = [];
  if (!group) missing.push(`group "${r.groupId}"`);
  if (!type) missing.push(`type "${r.typeId}"`);
  if (!ou) missing.push(`OU "${r.ou}"`);
  if (missing.length > 0) {
    throw cgError('CG_ERR_INPUT_INVALID', `${missing.join(', ')} does not exist; create it first`, {
      missing,
    });
  }
}

export interface RuleWrite {
  readonly rule: Rule;
  readonly status: Extract<WriteStatus, 'created' | 'updated' | 'replaced' | 'skipped'>;
}

/** Creates a rule from user input for the caller, with its duplicate mode. */
export async function createRule(
  deps: ApiDeps,
  p: TenantPrincipal,
  scope: ReadonlySet<string> | undefined,
  input: z.output<typeof ruleInputSchema>,
  duplicates: DuplicateMode,
): Promise<RuleWrite> {
  const params = await paramsOf(deps, p.tenant);
  const draft = toRule(input, { id: 1, policy: params.normalization, now: deps.now() });
  assertWritableOu(scope, draft.ou);
  await checkReferences(deps, p.tenant, draft);
  if (scope !== undefined) await refuseForeignDuplicate(deps, p.tenant, draft, scope);
  // What an override replaces, for the audit trail (read only when a rule may be replaced).
  const previous = duplicates === 'override' ? (await sameConditions(deps, p.tenant, draft))[0] : undefined;
  const { id: _id, updatedAt: _u, ...rest } = draft;
  const written = await deps.rules.create(p.tenant, rest, duplicates);
  if (written.status === 'skipped') assertVisible(scope, written.rule.ou, `rule ${written.rule.id}`);
  await settle(deps, p.tenant, written.version);
  if (written.status !== 'skipped') {
    const replaced = written.status === 'replaced' ? previous : undefined;
    recordChange(deps, p, p.tenant, {
      kind: 'rule',
      action: replaced ? 'update' : 'create',
      target: written.rule.id,
      before: replaced,
      after: written.rule,
    });
  }
  return { rule: written.rule, status: written.status as RuleWrite['status'] };
}

/** The stored rules with the same conditions as `draft` (its own stored self included). */
async function sameConditions(deps: ApiDeps, tenant: string, draft: Rule): Promise<Rule[]> {
  const side = draft.called !== undefined ? 'called' : 'calling';
  const key = conditionsKey(draft);
  return (await deps.rules.findByPattern(tenant, draft[side]!, side)).filter((r) => conditionsKey(r) === key);
}

/**
 * An isolated agent must not skip into or override a rule of another OU: such a duplicate is refused
 * without naming it.
 */
export async function refuseForeignDuplicate(
  deps: ApiDeps,
  tenant: string,
  draft: Rule,
  scope: ReadonlySet<string>,
): Promise<void> {
  const same = (await sameConditions(deps, tenant, draft)).filter((r) => r.id !== draft.id);
  if (same.some((r) => r.ou === undefined || !scope.has(r.ou))) {
    throw cgError(
      'CG_ERR_DUPLICATE_RULE',
      'a rule outside your OUs has identical conditions; ask a tenant admin to change it',
    );
  }
}
