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
  /** Given by the caller of decide(); when absent it is derived from the calling number, and only if a rule asks. */
  readonly callingCountry?: string;
  /** Epoch milliseconds the decision is made at (expiry is judged against it). */
  readonly at: number;
}

/** The last instant a JavaScript Date holds (year 275760): past it, every date is invalid. */
const LAST_INSTANT_MS = 8.64e15;
const INSTANT_ERROR = `epoch milliseconds (0 to ${LAST_INSTANT_MS}) or an ISO time such as 2026-11-22T10:00:00-06:00`;
const epochMs = z
  .number({ error: INSTANT_ERROR })
  .int(INSTANT_ERROR)
  .min(0, INSTANT_ERROR)
  .max(LAST_INSTANT_MS, INSTANT_ERROR);
const isoInstant = z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso));

/** A moment to decide at: epoch milliseconds, or an ISO time with its offset (a planned call). */
export const instantSchema = z.union([epochMs, isoInstant], { error: INSTANT_ERROR });

/** The same, written in a query string: digits are epoch milliseconds. */
export const instantTextSchema = z.union(
  [
    z
      .string()
      .regex(/^\d{1,16}$/)
      .transform(Number)
      .pipe(epochMs),
    isoInstant,
  ],
  { error: INSTANT_ERROR },
);

/** A call as it arrives from outside (API, CLI, PBX): raw numbers. The PBXes' IncomingCall is one too. */
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
    at: instantSchema.optional(),
  })
  .strict();
/** A raw call once checked (the schema's defaults filled in): what toCallContext() takes. */
export type RawCall = Readonly<z.output<typeof rawCallSchema>>;

/**
 * Normalises a raw call for decide(). The calling country is not derived here: parsing a number costs
 * more than the decision, and only rules with a calling country need it (see callingCountryOf).
 */
export function toCallContext(raw: RawCall, policy: NormalizationPolicy, now: number): CallContext {
  const calling = normalizeCallingNumber(raw.calling, policy);
  return {
    called: normalizeCallNumber(raw.called, policy),
    calling,
    direction: raw.direction,
    task: raw.task,
    sbc: raw.sbc,
    provider: raw.provider,
    customerGroup: raw.customerGroup,
    user: raw.user,
    callingCountry: raw.callingCountry,
    at: raw.at ?? now,
  };
}

export type { CallDirection };

let lastCalling = '';
let lastCountry: string | undefined;

/** The call's calling country: as given, else derived from the calling number (the last answer is kept). */
export function callingCountryOf(ctx: CallContext): string | undefined {
  if (ctx.callingCountry !== undefined) return ctx.callingCountry;
  if (ctx.calling !== lastCalling) {
    lastCalling = ctx.calling;
    lastCountry = countryOfNumber(ctx.calling);
  }
  return lastCountry;
}
