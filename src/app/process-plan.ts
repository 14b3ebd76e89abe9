import { ROLE_NAMES, type RoleName } from './roles.js';

/** The roles that answer calls: nothing else may share their process (and event loop) when split. */
export const CALL_ROLES: readonly RoleName[] = ['ari', 'esl'];

/** One process of `callguard serve`: a name for its log lines and the roles it runs. */
export interface ProcessSpec {
  /** `call` (ari, esl) or `admin` (api, worker); `all` when one process runs every asked role. */
  readonly proc: 'call' | 'admin' | 'all';
  readonly roles: readonly RoleName[];
}

/**
 * How `callguard serve` lays the asked roles out: call roles and the others in two processes when
 * both kinds are asked for, else one process (nothing to isolate from). Roles keep ROLE_NAMES order.
 */
export function planProcesses(roles: ReadonlySet<RoleName>): ProcessSpec[] {
  const call = ROLE_NAMES.filter((r) => roles.has(r) && CALL_ROLES.includes(r));
  const other = ROLE_NAMES.filter((r) => roles.has(r) && !CALL_ROLES.includes(r));
  if (call.length > 0 && other.length > 0) {
    return [
      { proc: 'call', roles: call },
      { proc: 'admin', roles: other },
    ];
  }
  return [{ proc: 'all', roles: [...call, ...other] }];
}
