import { z } from 'zod';

export const jobStateSchema = z.enum([
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'paused',
  'cancelled',
  'unknown',
]);

/** One row of the task view (GET /v1/jobs): every import and export, manual or scheduled. */
export const jobViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['import', 'export']),
  state: jobStateSchema,
  /** A running job was asked to stop; it stops at its next batch. */
  cancelRequested: z.boolean().optional(),
  progress: z.object({
    phase: z.string().optional(),
    total: z.number().optional(),
    read: z.number(),
    imported: z.number(),
    skipped: z.number(),
    failed: z.number(),
    exported: z.number(),
  }),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  errorsFile: z.string().optional(),
  resultFile: z.string().optional(),
  startedBy: z.string(),
  ous: z
    .array(z.string())
    .optional()
    .describe('The OUs of the key that started the job; absent: a key not limited to OUs.'),
  scheduleId: z.string().optional(),
  source: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  attempts: z.number(),
});
export type JobView = z.infer<typeof jobViewSchema>;
