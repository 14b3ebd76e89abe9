import { z } from 'zod';
import { instantTextSchema } from '../../domain/call-context.js';
import { auditEntrySchema, auditKindSchema } from '../../store/audit-repository.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { tenantOf } from '../auth.js';
import { errorResponses, pageQueryShape } from '../schemas.js';

const instant = instantTextSchema.describe('An ISO 8601 date and time, or epoch milliseconds.');

const auditQuery = z
  .object({
    kind: auditKindSchema.optional().describe('Only changes to this kind of object.'),
    keyId: z
      .string()
      .max(64)
      .optional()
      .describe('Only changes made with this key id ("system": the operator).'),
    from: instant.optional().describe('Only changes made at or after this time.'),
    to: instant.optional().describe('Only changes made at or before this time.'),
    ...pageQueryShape,
    // An audit cursor is the stream id of the last entry read; anything else would reach Redis.
    cursor: z
      .string()
      .regex(/^\d{1,20}-\d{1,20}$/, 'not a cursor this API gave out; pass back `next` unchanged')
      .optional()
      .describe('The `next` of the previous page.'),
  })
  .strict();

/** GET /v1/audit: the tenant's admin changes, newest first. */
export function registerAuditRoutes(app: ApiApp, deps: ApiDeps): void {
  app.get(
    '/v1/audit',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['audit'],
        summary: 'Admin changes: who changed what, when, before and after (newest first)',
        description:
          'An agent key sees only the changes that touched its OUs. Entries are kept as long as the tenant parameters auditRetentionDays and auditMaxEntries say.',
        querystring: auditQuery,
        response: {
          200: z.object({
            items: z.array(auditEntrySchema),
            next: z.string().optional().describe('Cursor of the next (older) page; absent on the last page.'),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const p = tenantOf(request);
      const q = request.query;
      return deps.auditTrail.query(p.tenant, {
        ...q,
        // Agents see the changes of their own OUs only, whatever the tenant's data isolation says.
        ous: p.role === 'agent' ? p.ous : undefined,
      });
    },
  );
}
