import { cgError } from '../domain/errors.js';

export const EXPORT_PASSWORD_RULE =
  'the compression password is 8 to 12 characters of letters and digits with at least one letter, one digit and one of @ _ ? = . *, and nothing else';

const SHAPE = /^[A-Za-z0-9@_?=.*]{8,12}$/;

/** Refuses a password that does not follow the rule, with a message that states the rule. */
export function checkExportPassword(password: unknown): string {
  const p = typeof password === 'string' ? password : '';
  const ok = SHAPE.test(p) && /[A-Za-z]/.test(p) && /[0-9]/.test(p) && /[@_?=.*]/.test(p);
  if (!ok)
    throw cgError('CG_ERR_INPUT_INVALID', `password refused: ${EXPORT_PASSWORD_RULE}`, { field: 'password' });
  return p;
}
