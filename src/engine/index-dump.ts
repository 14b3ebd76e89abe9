import type { ExactTable } from './exact-table.js';
import { STRIDE } from './exact-table.js';
import type { PrefixTable } from './prefix-table.js';
import type { RuleIndex } from './rule-index.js';

function exactLine(name: string, t: ExactTable): string {
  const buckets = t.dir.length - 1;
  let longest = 0;
  for (let b = 0; b < buckets; b++) longest = Math.max(longest, t.dir[b + 1] - t.dir[b]);
  const bytes = t.rec.byteLength + t.dir.byteLength + t.filter.byteLength + t.attrs.byteLength;
  return `${name}: ${t.rec.length / STRIDE} records, ${t.attrCount} attribute sets, ${buckets} buckets (longest ${longest}), filter ${t.filter.byteLength} B, ${bytes} B in all`;
}

function prefixLine(name: string, t: PrefixTable): string {
  const lengths: number[] = [];
  for (let l = 1; l <= 16; l++) if (t.lengthMask & (1 << l)) lengths.push(l);
  return `${name}: ${t.rec.length / 4} prefixes of length ${lengths.join(',') || '-'} → ${t.ruleIds.length} rules; ${t.rootRules.length} with an empty prefix, ${t.longRules.length} longer than 16; stem length ${t.stemLength}`;
}

/**
 * A human-readable picture of a compiled index, for debugging (`callguard check --rules R --dump`):
 * what went where, how full the tables are, and the rules of the general part.
 */
export function dumpIndex(index: RuleIndex, maxRules = 50): string {
  const p = index.parts;
  const lines = [
    `rules: ${index.ruleCount} (${p.calledExact.size} exact called, ${p.callingExact.size} exact calling, ${p.general.count} general)`,
    exactLine('called exact', p.calledExact),
    exactLine('calling exact', p.callingExact),
    prefixLine('called prefixes', p.calledPrefixes),
    prefixLine('calling prefixes', p.callingPrefixes),
    `anonymous-caller rules: ${p.anonymousRules.length}`,
    `names (groups, types): ${p.names.length}; strings: ${p.strings.length}`,
    'rules (id, called, calling, direction, action, scope):',
  ];
  let shown = 0;
  for (const rule of index.rules()) {
    if (shown++ === maxRules) {
      lines.push(`  ... ${index.ruleCount - maxRules} more`);
      break;
    }
    const scope = (
      ['groupId', 'typeId', 'sbc', 'provider', 'customerGroup', 'user', 'callingCountry'] as const
    )
      .filter((f) => rule[f] !== undefined)
      .map((f) => `${f}=${rule[f]}`)
      .join(' ');
    lines.push(
      `  ${rule.id}\t${rule.called ?? '-'}\t${rule.calling ?? '-'}\t${rule.direction}\t${rule.action}\t${scope}`,
    );
  }
  return lines.join('\n');
}
