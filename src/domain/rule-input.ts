import { z } from 'zod';
import { cgError } from './errors.js';
import type { NormalizationPolicy } from './number.js';
import { parsePattern } from './pattern.js';
import { actionSchema, directionSchema, type Rule, ruleAttributeFields } from './rule.js';
import { expiresAtFor, validitySchema } from './validity.js';

/**
 * A rule as a user writes it (API body, CSV row, CLI flags): raw numbers and patterns, a validity
 * instead of an expiry time. toRule() turns it into the stored form.
 */
export const ruleInputSchema = z
  .object({
    called: z.string().max(64).optional(),
    calling: z.string().max(64).optional(),
    direction: directionSchema.default('both'),
    action: actionSchema.default('block'),
    ...ruleAttributeFields,
    validity: validitySchema.optional(),
  })
  .strict();
export type RuleInput = z.input<typeof ruleInputSchema>;

/** Field a rule input error is about, for per-row and per-field error reports. */
export class RuleInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// Module-level helpers, not closures: toRule runs per row of a million-row file.
const blank = (v: string | undefined) => v === undefined || v.trim() === '';

function patternOf(
  input: { called?: string | undefined; calling?: string | undefined },
  field: 'called' | 'calling',
  policy: NormalizationPolicy,
): string | undefined {
  const raw = input[field];
  if (blank(raw)) return undefined;
  try {
    return parsePattern(raw as string, field, policy).text;
  } catch (error) {
    throw new RuleInputError(field, (error as Error).message);
  }
}

/** Parses patterns with the tenant's policy and computes the expiry; throws RuleInputError naming the field. */
export function toRule(
  input: z.output<typeof ruleInputSchema>,
  ctx: { id: number; policy: NormalizationPolicy; now: number },
): Rule {
  // ruleIdSchema's bounds, checked without a schema call (per row of a large file).
  if (!Number.isInteger(ctx.id) || ctx.id < 1 || ctx.id > 0xffff_ffff)
    throw new RuleInputError('id', `id ${ctx.id} is not a whole number from 1 to 4294967295`);
  if (blank(input.called) && blank(input.calling)) {
    throw new RuleInputError('called', 'a rule needs a called or a calling number or pattern (or both)');
  }
  const rule: Rule = {
    id: ctx.id,
    direction: input.direction,
    action: input.action,
    updatedAt: Math.floor(ctx.now / 1000) * 1000,
  };
  const called = patternOf(input, 'called', ctx.policy);
  const calling = patternOf(input, 'calling', ctx.policy);
  if (called !== undefined) rule.called = called;
  if (calling !== undefined) rule.calling = calling;
  for (const f of OPTIONAL_FIELDS) if (input[f] !== undefined) rule[f] = input[f];
  if (input.validity) rule.expiresAt = expiresAtFor(input.validity, ctx.now);
  return rule;
}

const OPTIONAL_FIELDS = [
  'groupId',
  'typeId',
  'ou',
  'sbc',
  'provider',
  'customerGroup',
  'user',
  'callingCountry',
  'remarks',
] as const;

export function ruleInputErrorToCg(error: RuleInputError) {
  return cgError('CG_ERR_RULE_INVALID', `${error.field}: ${error.message}`, { field: error.field });
}
