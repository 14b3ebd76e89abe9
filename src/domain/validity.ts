import { z } from 'zod';
import { cgError } from './errors.js';
import { LAST_STORED_MS } from './rule.js';

export const validityUnitSchema = z.enum(['hour', 'day', 'month', 'year']);
export const validitySchema = z
  .object({
    value: z.number().int().min(1, 'validity is 1 to 120').max(120, 'validity is 1 to 120'),
    unit: validityUnitSchema,
  })
  .strict();
export type Validity = z.infer<typeof validitySchema>;

/**
 * When a rule created at `from` with this validity expires, at whole seconds. Months and years are
 * calendar months and years (Jan 31 + 1 month = Feb 28/29, Feb 29 + 1 year = Feb 28), in UTC. A
 * validity that reaches past the last second a rule stores (2106-02-07T06:28:15Z; from 2026, about
 * 80 years) ends then: DESIGN's 1-120 years stay accepted.
 */
export function expiresAtFor(validity: Validity, from: number): number {
  return Math.min(LAST_STORED_MS, endOf(validity, from));
}

function endOf(validity: Validity, from: number): number {
  const parsed = validitySchema.safeParse(validity);
  if (!parsed.success) {
    throw cgError(
      'CG_ERR_VALIDITY_INVALID',
      `validity ${JSON.stringify(validity)} is not accepted: a whole number 1-120 with unit hour, day, month or year`,
    );
  }
  const { value, unit } = parsed.data;
  const start = Math.floor(from / 1000) * 1000;
  if (unit === 'hour') return start + value * 3_600_000;
  if (unit === 'day') return start + value * 86_400_000;
  const d = new Date(start);
  const months = unit === 'month' ? value : value * 12;
  const day = d.getUTCDate();
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + months,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}
