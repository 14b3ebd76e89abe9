import { ANONYMOUS } from '../domain/number.js';
import type { Pattern, PatternKind } from '../domain/pattern.js';

/** Pattern kinds as stored in the index (0 = the side is absent). */
export const K_NONE = 0;
export const K_BANG = 1;
export const K_DOT = 2;
export const K_RANGE = 3;
export const K_EXACT = 4;
export const K_ANON = 5;

const CODE_OF: Record<PatternKind, number> = {
  bang: K_BANG,
  dot: K_DOT,
  range: K_RANGE,
  exact: K_EXACT,
  anonymous: K_ANON,
};
const RANK_OF_CODE = [-1, 0, 1, 2, 3, 3];

export function kindCode(pattern: Pattern | undefined): number {
  return pattern ? CODE_OF[pattern.kind] : K_NONE;
}

/** Specificity on the scale of domain/pattern.ts: fixed characters * 4 + kind rank; -1 when absent. */
export function specificityOf(kind: number, fixedLength: number): number {
  return kind === K_NONE ? -1 : fixedLength * 4 + RANK_OF_CODE[kind];
}

/** Canonical pattern text back from its stored parts. */
export function patternText(kind: number, fixed: string, length: number): string | undefined {
  switch (kind) {
    case K_NONE:
      return undefined;
    case K_BANG:
      return `_${fixed}!`;
    case K_DOT:
      return `_${fixed}.`;
    case K_RANGE:
      return `_${fixed}${'X'.repeat(length - fixed.length)}`;
    case K_ANON:
      return ANONYMOUS;
    default:
      return fixed;
  }
}

/** Whether a call number matches a stored pattern. */
// hot path
export function sideMatches(kind: number, fixed: string, length: number, number: string): boolean {
  switch (kind) {
    case K_NONE:
      return true;
    case K_ANON:
      return number === ANONYMOUS;
    case K_EXACT:
      return number === fixed;
    case K_BANG:
      return number !== ANONYMOUS && number.startsWith(fixed);
    case K_DOT:
      return number.length > length && number !== ANONYMOUS && number.startsWith(fixed);
    case K_RANGE:
      return number.length === length && number.startsWith(fixed) && digitsFrom(number, fixed.length);
    default:
      return false;
  }
}

/**
 * sideMatches for a number whose first `fixedChars` characters the prefix table has already found
 * equal to the pattern's fixed part (so the number is packable, not ANONYMOUS): what is left is the
 * length and, for ranges, that the rest is digits. No string of the index is read.
 */
// hot path
export function restMatches(kind: number, length: number, number: string, fixedChars: number): boolean {
  switch (kind) {
    case K_EXACT:
      return number.length === fixedChars;
    case K_BANG:
      return true;
    case K_DOT:
      return number.length > length;
    case K_RANGE:
      return number.length === length && digitsFrom(number, fixedChars);
    default:
      return false;
  }
}

function digitsFrom(number: string, start: number): boolean {
  for (let i = start; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
