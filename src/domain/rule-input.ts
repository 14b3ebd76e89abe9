import { z } from 'zod';
import { cgError } from './errors.js';
import type { NormalizationPolicy } from './number.js';
import { parsePattern } from './pattern.js';
import { actionSchema, directionSchema, type Rule, ruleAttributeFields, ruleIdSchema } from './rule.js';
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

/** Parses patterns with the tenant's policy and computes the expiry; throws RuleInputError naming the field. */
export function toRule(
  input: z.output<typeof ruleInputSchema>,
  ctx: { id: number; policy: NormalizationPolicy; now: number },
): Rule {
  const id = ruleIdSchema.safeParse(ctx.id);
  if (!id.success) throw new RuleInputError('id', `id ${ctx.id} is not a whole number from 1 to 4294967295`);
  const blank = (v: string | undefined) => v === undefined || v.trim() === '';
  if (blank(input.called) && blank(input.calling)) {
    throw new RuleInputError('called', 'a rule needs a called or a calling number or pattern (or both)');
  }
  const pattern = (field: 'called' | 'calling') => {
    const raw = input[field];
    if (blank(raw)) return undefined;
    try {
      return parsePattern(raw as string, field, ctx.policy).text;
    } catch (error) {
      throw new RuleInputError(field, (error as Error).message);
    }
  };
  const rule: Rule = {
    id: ctx.id,
    direction: input.direction,
    action: input.action,
    updatedAt: Math.floor(ctx.now / 1000) * 1000,
  };
  const called = pattern('called');
  const calling = pattern('calling');
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
