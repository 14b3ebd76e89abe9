import { z } from 'zod';
import { isKnownZone } from './local-time.js';
import { nameSchema } from './rule.js';

/** Day names as policies write them; the index is the JavaScript weekday (0 = Sunday). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

const clock = z
  .string()
  .regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, 'a time of day "HH:MM" from 00:00 to 24:00');

/** Minutes since midnight of a validated "HH:MM". */
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const zoneSchema = z
  .string()
  .trim()
  .refine(isKnownZone, {
    error: (issue) =>
      `"${String(issue.input)}" is not an IANA time zone (such as America/Chicago or Europe/Riga)`,
  });

/** One stretch of allowed hours on some days: `from` inclusive, `to` exclusive (21:00 = until 20:59). */
export const windowPeriodSchema = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS, { error: 'a day is one of sun mon tue wed thu fri sat' }))
      .min(1, 'name at least one day')
      .max(7),
    from: clock,
    to: clock,
  })
  .strict()
  .refine((p) => minutesOf(p.from) < minutesOf(p.to), {
    error: '`from` must be before `to` (a period does not run past midnight; split it in two)',
    path: ['to'],
  });
export type WindowPeriod = z.infer<typeof windowPeriodSchema>;

const isoDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a date YYYY-MM-DD');

/** When calls may be made, in the callee's local time (or the policy's fixed zone). */
export const callingWindowSchema = z
  .object({
    hours: z.array(windowPeriodSchema).min(1, 'at least one period of allowed hours').max(50),
    holidays: z
      .array(isoDate)
      .max(1000, 'at most 1000 holiday dates')
      .optional()
      .describe('Local dates on which no call is allowed all day.'),
  })
  .strict();
export type CallingWindow = z.infer<typeof callingWindowSchema>;

export const CAP_PERIODS = ['day', '24h', '7d'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

export const attemptCapSchema = z
  .object({
    max: z.number().int().min(0).max(10_000),
    per: z
      .enum(CAP_PERIODS, { error: 'per is day (local calendar day), 24h or 7d (rolling)' })
      .describe('day: the local calendar day; 24h and 7d: rolling, counted in whole hours'),
  })
  .strict();
export type AttemptCap = z.infer<typeof attemptCapSchema>;

const policyFields = {
  name: text(128),
  ou: nameSchema.optional(),
  description: text(1024).optional(),
  zone: z
    .union([z.literal('callee'), zoneSchema])
    .default('callee')
    .describe(
      '"callee": the time zones of the called number (several: the most restrictive reading); or one IANA zone',
    ),
  fallbackZone: zoneSchema
    .optional()
    .describe('With zone "callee": the zone of a number whose zone is unknown; none: such calls are refused'),
  window: callingWindowSchema.optional(),
  caps: z.array(attemptCapSchema).max(3).optional(),
  countBy: z
    .enum(['tenant', 'task'])
    .default('tenant')
    .describe('tenant: every task of the tenant counts toward the caps; task: each task counts alone'),
  typeId: nameSchema
    .optional()
    .describe('The blocklist type a refused call gets (wrap-up with a business result, or a pop-up)'),
};

const needsRule = <T extends { window?: unknown; caps?: unknown[] }>(p: T) =>
  p.window !== undefined || (p.caps !== undefined && p.caps.length > 0);
const needsRuleError = { error: 'a policy needs a window or at least one cap' };

/** A contact policy as written (API, import): the id comes from the path. */
export const contactPolicyBodySchema = z.object(policyFields).strict().refine(needsRule, needsRuleError);

/** A tenant's contact policy: calling hours and attempt caps for the outbound tasks bound to it. */
export const contactPolicySchema = z
  .object({ id: nameSchema, ...policyFields })
  .strict()
  .refine(needsRule, needsRuleError);
export type ContactPolicy = z.output<typeof contactPolicySchema>;
export type ContactPolicyInput = z.input<typeof contactPolicySchema>;

/**
 * A tenant's policies and task bindings as one document: the offline checker's policies file, and
 * the part of a catalog export that carries them.
 */
export const policySetSchema = z
  .object({
    policies: z.array(contactPolicySchema).max(10_000),
    tasks: z
      .record(nameSchema, z.array(nameSchema).max(100))
      .default({})
      .describe('outbound task → the ids of the policies its calls are checked against'),
  })
  .strict()
  .superRefine((set, ctx) => {
    const ids = new Set(set.policies.map((p) => p.id));
    for (const [task, bound] of Object.entries(set.tasks)) {
      for (const id of bound) {
        if (!ids.has(id))
          ctx.addIssue({
            code: 'custom',
            path: ['tasks', task],
            message: `policy "${id}" is not in policies`,
          });
      }
    }
  });
export type PolicySet = z.output<typeof policySetSchema>;
