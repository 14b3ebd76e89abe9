import { cgError } from '../domain/errors.js';
import { type Rule, ruleSchema } from '../domain/rule.js';

/**
 * A rule as stored: one compact string (≈ 40 bytes for a typical rule) in a listpack bucket hash,
 * the id being the field. Fields in this order, joined by \x1f, trailing empties dropped:
 *   0 called  1 calling  2 direction(i|o|b)  3 group  4 sbc  5 provider  6 customerGroup  7 user
 *   8 callingCountry  9 action(b|a)  10 type  11 ou  12 updatedAt  13 expiresAt  14 remarks
 * Times are epoch seconds in base 36. Fields 0..8 are exactly conditionsKey(): the Lua scripts find
 * duplicates by comparing the text before the ninth separator, with no decoding.
 */
export const SEP = '\x1f';
const DIR = { inbound: 'i', outbound: 'o', both: 'b' } as const;
const DIR_BACK: Record<string, Rule['direction']> = { i: 'inbound', o: 'outbound', b: 'both' };

const secs = (ms: number | undefined): string => (ms === undefined ? '' : Math.floor(ms / 1000).toString(36));
const ms = (s: string | undefined): number | undefined => (s ? Number.parseInt(s, 36) * 1000 : undefined);

export function encodeRule(rule: Omit<Rule, 'id'>): string {
  const f = [
    rule.called ?? '',
    rule.calling ?? '',
    DIR[rule.direction],
    rule.groupId ?? '',
    rule.sbc ?? '',
    rule.provider ?? '',
    rule.customerGroup ?? '',
    rule.user ?? '',
    rule.callingCountry ?? '',
    rule.action === 'block' ? 'b' : 'a',
    rule.typeId ?? '',
    rule.ou ?? '',
    secs(rule.updatedAt),
    secs(rule.expiresAt),
    rule.remarks ?? '',
  ];
  let end = f.length;
  while (end > 10 && f[end - 1] === '') end--;
  return f.slice(0, end).join(SEP);
}

const opt = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/** Sets a field that has a value (module-level, not a closure per decode: it runs per rule). */
function put(rule: Record<string, unknown>, name: string, value: unknown): void {
  if (value !== undefined) rule[name] = value;
}

/** Decodes a stored rule. Trusts the store (no zod): this runs for every rule of a 10M-rule reload. */
export function decodeRule(id: number, encoded: string): Rule {
  const f = encoded.split(SEP);
  const direction = DIR_BACK[f[2] ?? ''];
  if (direction === undefined || (f[9] !== 'a' && f[9] !== 'b')) {
    throw cgError('CG_ERR_INTERNAL', `stored rule ${id} is not readable`, { id });
  }
  const rule: Record<string, unknown> = { id, direction, action: f[9] === 'b' ? 'block' : 'allow' };
  put(rule, 'called', opt(f[0]));
  put(rule, 'calling', opt(f[1]));
  put(rule, 'groupId', opt(f[3]));
  put(rule, 'typeId', opt(f[10]));
  put(rule, 'ou', opt(f[11]));
  put(rule, 'sbc', opt(f[4]));
  put(rule, 'provider', opt(f[5]));
  put(rule, 'customerGroup', opt(f[6]));
  put(rule, 'user', opt(f[7]));
  put(rule, 'callingCountry', opt(f[8]));
  put(rule, 'expiresAt', ms(f[13]));
  rule.updatedAt = ms(f[12]) ?? 0;
  put(rule, 'remarks', opt(f.slice(14).join(SEP)));
  return rule as Rule;
}

/** Validates a rule before it is stored (the store trusts what it reads back). */
export function checkedRule(rule: Rule): Rule {
  const parsed = ruleSchema.safeParse(rule);
  if (!parsed.success) {
    throw cgError(
      'CG_ERR_RULE_INVALID',
      `rule is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
