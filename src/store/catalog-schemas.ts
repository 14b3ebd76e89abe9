import { z } from 'zod';
import { nameSchema } from '../domain/rule.js';

const text = (max: number) => z.string().trim().min(1).max(max);

/** An organization unit: owns rules, groups and types; agents may be limited to theirs. */
export const ouSchema = z.object({ id: nameSchema, name: text(128), parent: nameSchema.optional() }).strict();
export type OrganizationUnit = z.infer<typeof ouSchema>;

/** A blocklist group: rules in it apply only to calls whose task is bound to it. */
export const groupSchema = z
  .object({ id: nameSchema, name: text(128), ou: nameSchema.optional(), description: text(1024).optional() })
  .strict();
export type BlocklistGroup = z.infer<typeof groupSchema>;

export const tenantSchema = z
  .object({ id: z.string(), name: text(128), createdAt: z.number().int() })
  .strict();
export type Tenant = z.infer<typeof tenantSchema>;
