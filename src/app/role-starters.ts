import { startApiRole } from './api-role.js';
import { startAriRole, startEslRole } from './call-roles.js';
import type { RoleName, RoleStarter } from './roles.js';
import { startWorkerRole } from './worker-role.js';

/** What each role of `callguard serve` runs. */
export const ROLE_STARTERS: Readonly<Record<RoleName, RoleStarter>> = {
  api: startApiRole,
  ari: startAriRole,
  esl: startEslRole,
  worker: startWorkerRole,
};
