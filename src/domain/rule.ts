import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';
import { type Pattern, parseCanonicalPattern } from './pattern.js';

export const directionSchema = z.enum(['inbound', 'outbound', 'both']);
export const callDirectionSchema = z.enum(['inbound', 'outbound']);
export const actionSchema = z.enum(['block', 'allow']);
export type Direction = z.infer<typeof directionSchema>;
export type CallDirection = z.infer<typeof callDirectionSchema>;
export type Action = z.infer<typeof actionSchema>;

/** Names of tenants' objects (groups, types, OUs, scope values): short, printable, no control characters. */
export const nameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'at most 128 characters')
  .regex(/^[^\p{Cc}]+$/u, 'control characters are not allowed');

export const countrySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2}$/, 'an ISO 3166 alpha-2 country code such as US or LV')
  .transform((c) => c.toUpperCase())
  // Two letters are not enough: ZZ would be stored and never match a call (numbers map to countries
  // through libphonenumber-js, which knows every country with a numbering plan).
  .refine((c): boolean => isSupportedCountry(c), {
    error: (issue) =>
      `${String(issue.input)} is not a country with a telephone numbering plan (such as US or LV)`,
  });

/** Rule ids are positive 32-bit integers so that the compiled index can hold them in a Uint32Array. */
export const ruleIdSchema = z.number().int().min(1).max(0xffff_ffff);

/** The last time a rule can hold (2106-02-07T06:28:15Z): the index stores times as uint32 seconds. */
export const LAST_STORED_MS = 0xffff_ffff * 1000;

/** Epoch milliseconds at whole seconds: the index stores seconds, the reference must see the same values. */
export const epochSecondsMsSchema = z
  .number()
  .int()
  .min(0)
  .max(LAST_STORED_MS, 'at most 2106-02-07T06:28:15Z, the last second a rule stores')
  .transform((ms) => Math.floor(ms / 1000) * 1000);

export const SCOPE_FIELDS = ['sbc', 'provider', 'customerGroup', 'user'] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];

/** The fields a rule shares with its input form: group, type, owner, scope and remarks. */
export const ruleAttributeFields = {
  groupId: nameSchema.optional(),
  typeId: nameSchema.optional(),
  ou: nameSchema.optional(),
  sbc: nameSchema.optional(),
  provider: nameSchema.optional(),
  customerGroup: nameSchema.optional(),
  user: nameSchema.optional(),
  callingCountry: countrySchema.optional(),
  remarks: z.string().max(1024).optional(),
};

/**
 * A rule as stored and compiled: patterns are canonical (see parsePattern), times are epoch ms at
 * whole seconds. Input from users is parsed into this by rule-input.ts.
 */
export const ruleSchema = z
  .object({
    id: ruleIdSchema,
    called: z.string().min(1).optional(),
    calling: z.string().min(1).optional(),
    direction: directionSchema,
    action: actionSchema,
    ...ruleAttributeFields,
    expiresAt: epochSecondsMsSchema.optional(),
    updatedAt: epochSecondsMsSchema,
  })
  .strict()
  .refine((r) => r.called !== undefined || r.calling !== undefined, {
    message: 'a rule needs a called or a calling pattern (or both)',
  });

export type Rule = z.infer<typeof ruleSchema>;

/** A rule with its patterns parsed once. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly called: Pattern | undefined;
  readonly calling: Pattern | undefined;
}

export function compileRule(rule: Rule): CompiledRule {
  return {
    rule,
    called: rule.called === undefined ? undefined : parseCanonicalPattern(rule.called, 'called'),
    calling: rule.calling === undefined ? undefined : parseCanonicalPattern(rule.calling, 'calling'),
  };
}

/**
 * Two rules are duplicates when they would match exactly the same calls: same patterns, direction,
 * group, scope and calling country. Action, type, OU, expiry and remarks are what a duplicate changes.
 */
export function conditionsKey(rule: Rule): string {
  return [
    rule.called ?? '',
    rule.calling ?? '',
    rule.direction,
    rule.groupId ?? '',
    rule.sbc ?? '',
    rule.provider ?? '',
    rule.customerGroup ?? '',
    rule.user ?? '',
    rule.callingCountry ?? '',
  ].join('\u0001');
}

export function isExpired(rule: Pick<Rule, 'expiresAt'>, at: number): boolean {
  return rule.expiresAt !== undefined && rule.expiresAt <= at;
}
