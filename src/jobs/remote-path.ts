import { posix } from 'node:path';
import { cgError } from '../domain/errors.js';

/**
 * Checks a path a user gives relative to a file server's root before it goes near the server: not
 * absolute, no `..` or `.` segments, no backslashes or control characters. The server side check
 * (realpath inside the root, which catches symlinks) is in sftp-session.ts.
 */
export function checkRelativePath(path: string, what = 'path'): string {
  const p = path.trim();
  const refuse = (why: string) =>
    cgError(
      'CG_ERR_INPUT_INVALID',
      `${what} "${path}" is refused: ${why}; give a path relative to the file server's root, without "..", e.g. "exports/daily"`,
      { field: what },
    );
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw refuse('it is absolute');
  if (p.includes('\\')) throw refuse('it contains a backslash');
  if (/\p{Cc}/u.test(p)) throw refuse('it contains control characters');
  if (p.length > 1024) throw refuse('it is longer than 1024 characters');
  const segments = p.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..')) throw refuse('it leaves the root with ".."');
  return segments.filter((s) => s !== '.').join('/');
}

export function checkFileName(name: string): string {
  const n = name.trim();
  if (n === '' || n === '.' || n === '..' || n.includes('/') || n.includes('\\') || /\p{Cc}/u.test(n)) {
    throw cgError(
      'CG_ERR_INPUT_INVALID',
      `file name "${name}" is refused: a plain file name without "/", "\\" or control characters, not "." or ".."`,
      { field: 'fileName' },
    );
  }
  if (n.length > 255) throw cgError('CG_ERR_INPUT_INVALID', 'file name is longer than 255 characters');
  return n;
}

/** True when `real` (a realpath on the server) is the root or inside it. */
export function isInside(realRoot: string, real: string): boolean {
  const root = posix.normalize(realRoot).replace(/\/+$/, '') || '/';
  const target = posix.normalize(real);
  return root === '/' || target === root || target.startsWith(`${root}/`);
}
