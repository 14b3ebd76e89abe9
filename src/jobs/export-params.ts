import { z } from 'zod';
import { actionSchema, directionSchema, nameSchema } from '../domain/rule.js';
import { serverFileSchema } from './import-params.js';

/** Records per CSV file inside the export zip. */
export const EXPORT_PART_RECORDS = 100_000;
/** Records per export. */
export const EXPORT_LIMIT = 2_000_000;

export const exportFilterSchema = z
  .object({
    ou: nameSchema.optional(),
    groupId: nameSchema.optional(),
    typeId: nameSchema.optional(),
    direction: directionSchema.optional(),
    action: actionSchema.optional(),
    /** Literal leading digits of the called or calling number or pattern. */
    numberPrefix: z
      .string()
      .regex(/^[0-9*#]{1,32}$/, 'digits, * or #')
      .optional(),
  })
  .strict();
export type ExportFilter = z.infer<typeof exportFilterSchema>;

export const exportTargetSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('download') }).strict(),
  z
    .object({ mode: z.literal('server') })
    .extend(serverFileSchema.shape)
    .strict(),
]);
export type ExportTarget = z.infer<typeof exportTargetSchema>;

export interface ExportJobData {
  readonly kind: 'export';
  readonly tenant: string;
  readonly filter: ExportFilter;
  readonly target: ExportTarget;
  /** The compression password, sealed (src/secret-box.ts): job data sits in Redis. */
  readonly sealedPassword: string;
  readonly startedBy: string;
  readonly scheduleId?: string;
  /** The OUs of the key that started it (job-ous.ts). */
  readonly ous?: readonly string[];
}

export interface ExportResult {
  readonly records: number;
  readonly files: number;
  readonly bytes: number;
}
