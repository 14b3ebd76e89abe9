import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { exportFilterSchema } from './export-params.js';
import { importParamsSchema, serverFileSchema } from './import-params.js';

const timeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'an IANA time zone such as UTC or Europe/Riga' },
  );

const cron = z
  .string()
  .min(1)
  .max(128)
  .refine(
    (c) => {
      try {
        CronExpressionParser.parse(c);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a cron expression: minute hour day-of-month month day-of-week, e.g. "30 2 * * *"' },
  );

const common = { name: z.string().trim().min(1).max(128), cron, timezone: timeZone.default('UTC') };

/** A scheduled import (from a file server) or export (to a file server), as POST /v1/schedules takes it. */
export const scheduleInputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('import'),
      ...common,
      file: serverFileSchema,
      params: importParamsSchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('export'),
      ...common,
      filter: exportFilterSchema.optional(),
      file: serverFileSchema,
      /** The compression password; stored sealed, never returned or logged. */
      password: z.string(),
    })
    .strict(),
]);
export type ScheduleInput = z.input<typeof scheduleInputSchema>;

/** The cron message when a schedule would run more often than once a minute. */
const AT_MOST_EACH_MINUTE =
  'five fields: minute hour day-of-month month day-of-week, e.g. "30 2 * * *"; a schedule runs at most once a minute, so a seconds field is not accepted';

/**
 * What POST /v1/schedules takes: a schedule that runs at most once a minute. cron-parser also reads a
 * leading seconds field ("* * * * * *" is every second, each run a whole import or export); the
 * service itself takes one, which its tests use to run a schedule now.
 */
export const scheduleRequestSchema = scheduleInputSchema.superRefine((s, ctx) => {
  const fields = s.cron.trim().split(/\s+/);
  const perMinute = s.cron.trim().startsWith('@') ? !/^@secondly$/i.test(s.cron.trim()) : fields.length === 5;
  if (!perMinute) ctx.addIssue({ code: 'custom', path: ['cron'], message: AT_MOST_EACH_MINUTE });
});

export const scheduleViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['import', 'export']),
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  state: z.enum(['active', 'paused']),
  file: serverFileSchema,
  params: z.record(z.string(), z.unknown()).optional(),
  filter: z.record(z.string(), z.unknown()).optional(),
  nextRunAt: z.number().optional(),
  createdBy: z.string(),
  ous: z
    .array(z.string())
    .optional()
    .describe('The OUs of the key that created it; absent: a key not limited to OUs.'),
  createdAt: z.number(),
});
export type ScheduleView = z.infer<typeof scheduleViewSchema>;

/** As stored: the view's fields and the job data template (an export's password sealed inside it). */
export const storedScheduleSchema = scheduleViewSchema.omit({ nextRunAt: true }).extend({
  template: z.record(z.string(), z.unknown()),
});
export type StoredSchedule = z.infer<typeof storedScheduleSchema>;

export function nextRun(cronText: string, tz: string, from = new Date()): number | undefined {
  try {
    return CronExpressionParser.parse(cronText, { tz, currentDate: from }).next().getTime();
  } catch {
    return undefined;
  }
}
