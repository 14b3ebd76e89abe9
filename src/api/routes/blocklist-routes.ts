import { z } from 'zod';
import { cgError } from '../../domain/errors.js';
import { nameSchema } from '../../domain/rule.js';
import { validitySchema } from '../../domain/validity.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { tenantOf } from '../auth.js';
import { createRule } from '../rule-writes.js';
import { errorResponses } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';
import { ruleView } from './rule-routes.js';

/** The AICC-style "blocklisted number": an exact outbound block rule in a group, with a type. */
const blocklistBody = z
  .object({
    number: z.string().trim().min(1).max(64).describe('The number not to dial (exact; no pattern).'),
    group: nameSchema,
    type: nameSchema,
    ou: nameSchema.optional(),
    validity: validitySchema.optional().describe('1-120 hours, days, months or years; absent: permanent.'),
    remarks: z.string().max(1024).optional(),
    override: z
      .boolean()
      .default(false)
      .describe('Replace a rule with identical conditions instead of refusing.'),
  })
  .strict()
  .meta({ id: 'BlocklistEntry' });

export function registerBlocklistRoutes(app: ApiApp, deps: ApiDeps): void {
  app.post(
    '/v1/blocklist',
    {
      config: { auth: 'rules:create' },
      schema: {
        tags: ['rules'],
        summary: 'Blocklist a number for outbound calls of the tasks bound to a group',
        body: blocklistBody,
        response: {
          201: z.object({ rule: ruleView, status: z.enum(['created', 'replaced']) }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const p = tenantOf(request);
      const b = request.body;
      if (b.number.startsWith('_') || b.number.toLowerCase() === 'anonymous') {
        throw cgError(
          'CG_ERR_NUMBER_INVALID',
          `body.number: "${b.number}" is a pattern; the blocklist takes one exact number (use POST /v1/rules for patterns)`,
        );
      }
      const written = await createRule(
        deps,
        p,
        await scopeOf(deps, p),
        {
          called: b.number,
          direction: 'outbound',
          action: 'block',
          groupId: b.group,
          typeId: b.type,
          ou: b.ou,
          validity: b.validity,
          remarks: b.remarks,
        },
        b.override ? 'override' : 'reject',
      );
      return reply.code(201).send(written as { rule: typeof written.rule; status: 'created' | 'replaced' });
    },
  );
}
