import { z } from 'zod';
import {
  countryOfNumber,
  type NormalizationPolicy,
  normalizeCallingNumber,
  normalizeCallNumber,
} from './number.js';
import { type CallDirection, callDirectionSchema, countrySchema, nameSchema } from './rule.js';

/** A call as decide() sees it: numbers already normalised by the tenant's policy. */
export interface CallContext {
  readonly called: string;
  /** Normalised calling number, ANONYMOUS, or '' when the caller id is not a number. */
  readonly calling: string;
  readonly direction: CallDirection;
  readonly task?: string;
  readonly sbc?: string;
  readonly provider?: string;
  readonly customerGroup?: string;
  readonly user?: string;
  readonly callingCountry?: string;
  /** Epoch milliseconds the decision is made at (expiry is judged against it). */
  readonly at: number;
}

/** A call as it arrives from outside (API, CLI, PBX): raw numbers. */
export const rawCallSchema = z
  .object({
    called: z.string().max(256).default(''),
    calling: z.string().max(256).optional(),
    direction: callDirectionSchema,
    task: nameSchema.optional(),
    sbc: nameSchema.optional(),
    provider: nameSchema.optional(),
    customerGroup: nameSchema.optional(),
    user: nameSchema.optional(),
    callingCountry: countrySchema.optional(),
    at: z.number().int().min(0).optional(),
  })
  .strict();
export type RawCall = z.input<typeof rawCallSchema>;

/** Normalises a raw call for decide(). The calling country is derived from the number unless given. */
export function toCallContext(
  raw: z.output<typeof rawCallSchema>,
  policy: NormalizationPolicy,
  now: number,
): CallContext {
  const calling = normalizeCallingNumber(raw.calling, policy);
  const callingCountry = raw.callingCountry ?? countryOfNumber(calling);
  return {
    called: normalizeCallNumber(raw.called, policy),
    calling,
    direction: raw.direction,
    task: raw.task,
    sbc: raw.sbc,
    provider: raw.provider,
    customerGroup: raw.customerGroup,
    user: raw.user,
    callingCountry,
    at: raw.at ?? now,
  };
}

export type { CallDirection };
