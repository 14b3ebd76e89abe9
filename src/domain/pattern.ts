import { cgError } from './errors.js';
import { ANONYMOUS, MAX_NUMBER_LENGTH, type NormalizationPolicy, normalizeNumber } from './number.js';

/**
 * Pattern kinds, in the order of their specificity rank (higher is more specific):
 * exact 14045266123 > range _14045266XXX > dot prefix _1404. > bang prefix _1404!
 * `anonymous` counts as exact.
 */
export type PatternKind = 'exact' | 'range' | 'dot' | 'bang' | 'anonymous';
export type PatternSide = 'called' | 'calling';

export interface Pattern {
  readonly kind: PatternKind;
  /** Canonical text, as stored and shown: 14045266123, _14045266XXX, _1404., _1404!, anonymous. */
  readonly text: string;
  /** The literal characters the pattern starts with ('' for anonymous). */
  readonly fixed: string;
  /** exact and range: the exact length a number must have; prefixes: the fixed length. */
  readonly length: number;
}

export const KIND_RANK: Record<PatternKind, number> = { bang: 0, dot: 1, range: 2, exact: 3, anonymous: 3 };

const PATTERN_SEPARATORS = /[+\s\-()]/g;
const ANONYMOUS_PATTERN: Pattern = { kind: 'anonymous', text: ANONYMOUS, fixed: '', length: 0 };

function invalid(input: string, why: string): never {
  throw cgError('CG_ERR_PATTERN_INVALID', `pattern "${input}": ${why}`, { pattern: input });
}

const ACCEPTED =
  'accepted: an exact number (14045266123), _PREFIX! (prefix and everything after it), _PREFIX. (prefix and at least one more character), _PREFIXXXX (trailing X = exactly one digit each), or anonymous on the calling side';

/** Parses a pattern as written by a user (API, CSV, CLI) into its canonical form. */
export function parsePattern(input: string, side: PatternSide, policy: NormalizationPolicy): Pattern {
  const trimmed = input.trim();
  if (trimmed.length === 0) invalid(input, `empty; ${ACCEPTED}`);
  if (trimmed.toLowerCase() === ANONYMOUS) {
    if (side !== 'calling') invalid(input, 'anonymous applies to the calling number only');
    return ANONYMOUS_PATTERN;
  }
  if (!trimmed.startsWith('_')) {
    if (/[xXnNzZ[\]!]/.test(trimmed)) {
      invalid(input, `looks like a pattern but does not start with _ (write _${trimmed}); ${ACCEPTED}`);
    }
    if (/[a-zA-Z]/.test(trimmed)) invalid(input, `letters are not allowed; ${ACCEPTED}`);
    try {
      const digits = normalizeNumber(trimmed, policy);
      return { kind: 'exact', text: digits, fixed: digits, length: digits.length };
    } catch (error) {
      invalid(input, (error as Error).message);
    }
  }
  return parseWildcardPattern(input, trimmed.slice(1).replace(PATTERN_SEPARATORS, ''));
}

function parseWildcardPattern(input: string, body: string): Pattern {
  let tail: 'bang' | 'dot' | undefined;
  if (body.endsWith('!')) tail = 'bang';
  else if (body.endsWith('.')) tail = 'dot';
  const core = tail ? body.slice(0, -1) : body;
  const firstX = core.search(/[xX]/);
  const fixed = firstX === -1 ? core : core.slice(0, firstX);
  const xs = firstX === -1 ? '' : core.slice(firstX);

  const bad = fixed.match(/[^0-9*#]/);
  if (bad) {
    const ch = bad[0];
    if (/[nNzZ]/.test(ch)) {
      invalid(
        input,
        `${ch.toUpperCase()} is not supported; use X for one digit, or list the numbers; ${ACCEPTED}`,
      );
    }
    if (ch === '[' || ch === ']') invalid(input, `character classes [...] are not supported; ${ACCEPTED}`);
    if (ch === '!' || ch === '.') invalid(input, `${ch} may only stand at the end; ${ACCEPTED}`);
    invalid(input, `"${ch}" is not a number character; ${ACCEPTED}`);
  }
  if (xs.length > 0 && !/^[xX]+$/.test(xs)) {
    invalid(input, `X must be trailing: after the first X only more X may follow; ${ACCEPTED}`);
  }
  if (xs.length > 0 && tail) {
    invalid(
      input,
      `an X range has a fixed length and cannot end with ${tail === 'bang' ? '!' : '.'}; ${ACCEPTED}`,
    );
  }
  const length = fixed.length + xs.length;
  if (length > MAX_NUMBER_LENGTH) {
    invalid(input, `${length} characters; at most ${MAX_NUMBER_LENGTH} are accepted`);
  }
  if (tail) {
    if (fixed.length === 0) invalid(input, `a prefix needs at least one fixed character; ${ACCEPTED}`);
    const text = `_${fixed}${tail === 'bang' ? '!' : '.'}`;
    return { kind: tail, text, fixed, length: fixed.length };
  }
  if (xs.length === 0) {
    if (fixed.length === 0) invalid(input, `empty; ${ACCEPTED}`);
    return { kind: 'exact', text: fixed, fixed, length: fixed.length };
  }
  return { kind: 'range', text: `_${fixed}${'X'.repeat(xs.length)}`, fixed, length };
}

/** Parses a pattern that is already canonical (from the store or a snapshot). */
export function parseCanonicalPattern(text: string, side: PatternSide): Pattern {
  return parsePattern(text, side, { mode: 'digits' });
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Whether a normalised call number matches the pattern. The reference for every index. */
export function patternMatches(pattern: Pattern, number: string): boolean {
  if (pattern.kind === 'anonymous') return number === ANONYMOUS;
  if (number === ANONYMOUS || number.length === 0) return false;
  switch (pattern.kind) {
    case 'exact':
      return number === pattern.fixed;
    case 'bang':
      return number.startsWith(pattern.fixed);
    case 'dot':
      return number.length > pattern.fixed.length && number.startsWith(pattern.fixed);
    case 'range': {
      if (number.length !== pattern.length || !number.startsWith(pattern.fixed)) return false;
      for (let i = pattern.fixed.length; i < number.length; i++)
        if (!isDigit(number.charCodeAt(i))) return false;
      return true;
    }
  }
}

/** Specificity as one number: fixed characters first, then kind. Absent side: -1 (below any pattern). */
export function specificity(pattern: Pattern | undefined): number {
  if (!pattern) return -1;
  return pattern.fixed.length * 4 + KIND_RANK[pattern.kind];
}
