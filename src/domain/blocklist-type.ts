import { z } from 'zod';
import { isPbxSafeText, PBX_TEXT_RULE } from './pbx-text.js';
import { nameSchema } from './rule.js';

/** How a block is carried out: wrap the call up with a business result, or pop up a prompt on the agent desktop. */
export const operationSchema = z.enum(['auto_wrap_up', 'pop_up']);
export type Operation = z.infer<typeof operationSchema>;

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

const base = {
  id: nameSchema,
  name: text(128),
  ou: nameSchema.optional(),
  description: text(1024).optional(),
};

/** The fields an operation type needs are required, the others refused (strict objects). */
export const blocklistTypeSchema = z.discriminatedUnion('operation', [
  z.object({ ...base, operation: z.literal('auto_wrap_up'), businessResult: text(256) }).strict(),
  z
    .object({
      ...base,
      operation: z.literal('pop_up'),
      promptContent: text(2048),
      jumpAddress: text(2048),
      businessResult: text(256).optional(),
    })
    .strict(),
]);
export type BlocklistType = z.infer<typeof blocklistTypeSchema>;

const SCRIPT_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:']);

/** The scheme a browser would read in an address (its URL parser drops blanks and tabs first); '' for none. */
function schemeOf(address: string): string {
  try {
    return new URL(address).protocol;
  } catch {
    return '';
  }
}

/**
 * A type as written (API, import): its businessResult reaches the PBX as CALLGUARD_BUSINESS_RESULT,
 * so text the PBX would evaluate or alter is refused here. Stored types are read with the plain
 * schema, so one written before this rule still loads (the call path then leaves the variable out).
 */
export const blocklistTypeInputSchema = blocklistTypeSchema.superRefine((type, ctx) => {
  // The agent desktop opens it: a script URL would run in whatever page shows the pop-up.
  if ('jumpAddress' in type && SCRIPT_SCHEMES.has(schemeOf(type.jumpAddress))) {
    ctx.addIssue({
      code: 'custom',
      path: ['jumpAddress'],
      message: 'the address the agent desktop opens: javascript:, data: and vbscript: addresses are refused',
    });
  }
  if (type.businessResult !== undefined && !isPbxSafeText(type.businessResult)) {
    ctx.addIssue({
      code: 'custom',
      path: ['businessResult'],
      message: `reaches the PBX as a channel variable: ${PBX_TEXT_RULE} is accepted`,
    });
  }
});

/** What carrying out a decision needs beyond block/allow. */
export interface Outcome {
  readonly operation: Operation | 'none';
  readonly typeId?: string;
  readonly businessResult?: string;
  readonly promptContent?: string;
  readonly jumpAddress?: string;
}

export const NO_OUTCOME: Outcome = Object.freeze({ operation: 'none' });

export function outcomeOf(type: BlocklistType | undefined): Outcome {
  if (!type) return NO_OUTCOME;
  if (type.operation === 'auto_wrap_up') {
    return { operation: 'auto_wrap_up', typeId: type.id, businessResult: type.businessResult };
  }
  return {
    operation: 'pop_up',
    typeId: type.id,
    promptContent: type.promptContent,
    jumpAddress: type.jumpAddress,
    businessResult: type.businessResult,
  };
}
