import {
  type AuditAction,
  type AuditActor,
  type AuditKind,
  redactSecrets,
} from '../store/audit-repository.js';
import type { ApiDeps } from './api-deps.js';
import type { Principal } from './auth.js';

export interface AdminChange {
  readonly kind: AuditKind;
  readonly action: AuditAction;
  readonly target: string | number;
  readonly before?: unknown;
  readonly after?: unknown;
  /** The OUs the change touched, when the objects do not say it themselves with an `ou` field. */
  readonly ous?: readonly string[];
}

export function actorOf(p: Principal | undefined): AuditActor {
  if (p?.kind !== 'tenant') return { keyId: 'system', role: 'system' };
  return { keyId: p.keyId, ...(p.keyName === undefined ? {} : { name: p.keyName }), role: p.role };
}

const ouOf = (value: unknown): string | undefined =>
  value !== null && typeof value === 'object' && typeof (value as { ou?: unknown }).ou === 'string'
    ? (value as { ou: string }).ou
    : undefined;

/**
 * Records one admin change of `tenant` in its audit trail: who (the caller's key), when, what,
 * before and after (secrets shown as "[set]"). Never waits and never fails the request: the entry is
 * written off the request path.
 */
export function recordChange(deps: ApiDeps, who: Principal | undefined, tenant: string, change: AdminChange) {
  const ous = new Set(change.ous ?? []);
  for (const side of [change.before, change.after]) {
    const ou = ouOf(side);
    if (ou !== undefined) ous.add(ou);
  }
  deps.audit.record(tenant, {
    at: deps.now(),
    actor: actorOf(who),
    kind: change.kind,
    action: change.action,
    target: String(change.target),
    ous: [...ous].sort(),
    ...(change.before === undefined ? {} : { before: redactSecrets(change.before) }),
    ...(change.after === undefined ? {} : { after: redactSecrets(change.after) }),
  });
}
