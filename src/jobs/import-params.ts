import { z } from 'zod';
import { nameSchema } from '../domain/rule.js';
import { validitySchema } from '../domain/validity.js';

/** Upload imports: at most this many records (the product this replaces had the same limit). */
export const UPLOAD_IMPORT_LIMIT = 50_000;
/** Imports from a file server: at most this many records. */
export const SERVER_IMPORT_LIMIT = 2_000_000;

/** skip: keep the existing rule; override: the file's rule replaces it; overwrite: the file is the whole OU + group scope. */
export const overrideRuleSchema = z.enum(['skip', 'override', 'overwrite']);
export type OverrideRule = z.infer<typeof overrideRuleSchema>;

/** What every import takes besides its file: defaults for rows that leave a column empty, and the override rule. */
export const importParamsSchema = z
  .object({
    overrideRule: overrideRuleSchema.default('skip'),
    ou: nameSchema.optional(),
    groupId: nameSchema.optional(),
    typeId: nameSchema.optional(),
    validity: validitySchema.optional(),
    /**
     * Overwrite only: a file with row errors applies its good rows and deletes the rest of the scope
     * anyway. Without it (the default) such a file applies nothing and deletes nothing.
     */
    allowPartial: z.boolean().optional(),
  })
  .strict()
  .refine((p) => p.overrideRule !== 'overwrite' || p.ou !== undefined, {
    message:
      'overwrite replaces every rule of one OU (and group): give ou (and groupId, or none for global rules)',
    path: ['ou'],
  });
export type ImportParams = z.infer<typeof importParamsSchema>;

export const serverFileSchema = z
  .object({
    serverId: z.string().min(1).max(64),
    path: z.string().max(1024).default(''),
    fileName: z.string().min(1).max(255),
  })
  .strict();
export type ServerFile = z.infer<typeof serverFileSchema>;

export type ImportSource = { readonly kind: 'upload' } | ({ readonly kind: 'server' } & ServerFile);

export interface ImportJobData {
  readonly kind: 'import';
  readonly tenant: string;
  readonly source: ImportSource;
  readonly params: ImportParams;
  readonly startedBy: string;
  /** The OUs of the key that started the job, when it is limited to some: every row must be in one. */
  readonly keyOus?: readonly string[];
  readonly scheduleId?: string;
  /** The OUs of the key that started it (job-ous.ts). */
  readonly ous?: readonly string[];
}

export interface ImportCounts {
  read: number;
  imported: number;
  skipped: number;
  failed: number;
}

export interface ImportResult extends ImportCounts {
  /** Rules of the overwrite scope that were not in the file and were deleted. */
  readonly deleted: number;
  readonly errorsFile: boolean;
  readonly reloadVersion: string;
}
