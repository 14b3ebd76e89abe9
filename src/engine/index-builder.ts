import type { Pattern } from '../domain/pattern.js';
import { parseCanonicalPattern } from '../domain/pattern.js';
import type { Rule } from '../domain/rule.js';
import { ExactTableBuilder, MAX_COMPACT_REF, packMeta } from './exact-table.js';
import { type GeneralRow, packGeneralRules } from './general-rules.js';
import { MAX_KEY_CHARS, packNumber } from './number-key.js';
import { K_ANON, K_NONE, kindCode } from './pattern-codes.js';
import { PrefixTableBuilder } from './prefix-table.js';
import { RuleIndex } from './rule-index.js';

const DIR_BITS = { inbound: 1, outbound: 2, both: 3 } as const;
const PLAIN_NUMBER = /^[0-9*#]{1,32}$/;

/** Canonical patterns are parsed once per distinct text; plain numbers skip the parser entirely. */
function patternOf(text: string | undefined, side: 'called' | 'calling'): Pattern | undefined {
  if (text === undefined) return undefined;
  if (PLAIN_NUMBER.test(text)) return { kind: 'exact', text, fixed: text, length: text.length };
  return parseCanonicalPattern(text, side);
}

class Interner {
  readonly values: string[] = [];
  private readonly refs = new Map<string, number>();

  ref(value: string | undefined): number {
    if (value === undefined) return 0;
    let r = this.refs.get(value);
    if (r === undefined) {
      this.values.push(value);
      r = this.values.length;
      this.refs.set(value, r);
    }
    return r;
  }
}

const toSeconds = (ms: number | undefined): number => (ms === undefined ? 0 : Math.floor(ms / 1000));

function hasScope(r: Rule): boolean {
  return (
    r.sbc !== undefined ||
    r.provider !== undefined ||
    r.customerGroup !== undefined ||
    r.user !== undefined ||
    r.callingCountry !== undefined
  );
}

/**
 * Compiles a rule list into a RuleIndex. Rules with an exact number on one side only and no scope go
 * to the compact tables (20 bytes each); everything else to the general rules, indexed by the fixed prefix
 * of the side with more fixed characters (calling `anonymous` in its own list).
 */
export function buildRuleIndex(rules: Iterable<Rule>): RuleIndex {
  const names = new Interner();
  const strings = new Interner();
  const calledExact = new ExactTableBuilder();
  const callingExact = new ExactTableBuilder();
  const calledPrefixes = new PrefixTableBuilder();
  const callingPrefixes = new PrefixTableBuilder();
  const anonymous: number[] = [];
  const general: GeneralRow[] = [];
  const key = new Uint32Array(2);

  for (const rule of rules) {
    const called = patternOf(rule.called, 'called');
    const calling = patternOf(rule.calling, 'calling');
    const groupRef = names.ref(rule.groupId);
    const typeRef = names.ref(rule.typeId);
    const dirBits = DIR_BITS[rule.direction];
    const block = rule.action === 'block';
    const compactable = !hasScope(rule) && groupRef <= MAX_COMPACT_REF && typeRef <= MAX_COMPACT_REF;

    if (compactable && called?.kind === 'exact' && !calling && called.fixed.length <= MAX_KEY_CHARS) {
      packNumber(called.fixed, key);
      const meta = packMeta(dirBits, block, groupRef, typeRef);
      calledExact.add(key[0], key[1], rule.id, meta, toSeconds(rule.expiresAt), toSeconds(rule.updatedAt));
      continue;
    }
    if (compactable && calling?.kind === 'exact' && !called && calling.fixed.length <= MAX_KEY_CHARS) {
      packNumber(calling.fixed, key);
      const meta = packMeta(dirBits, block, groupRef, typeRef);
      callingExact.add(key[0], key[1], rule.id, meta, toSeconds(rule.expiresAt), toSeconds(rule.updatedAt));
      continue;
    }

    const index = general.length;
    general.push({
      id: rule.id,
      calledKind: kindCode(called),
      calledLen: called?.length ?? 0,
      calledRef: called && called.fixed.length > 0 ? strings.ref(called.fixed) : 0,
      callingKind: kindCode(calling),
      callingLen: calling?.length ?? 0,
      callingRef: calling && calling.fixed.length > 0 ? strings.ref(calling.fixed) : 0,
      meta: dirBits | (block ? 4 : 0),
      groupRef,
      typeRef,
      sbcRef: strings.ref(rule.sbc),
      providerRef: strings.ref(rule.provider),
      customerGroupRef: strings.ref(rule.customerGroup),
      userRef: strings.ref(rule.user),
      countryRef: strings.ref(rule.callingCountry),
      expires: toSeconds(rule.expiresAt),
      updated: toSeconds(rule.updatedAt),
    });
    const calledFixed = called ? called.fixed.length : -1;
    const callingFixed = calling && kindCode(calling) !== K_ANON ? calling.fixed.length : -1;
    if (kindCode(called) !== K_NONE && calledFixed >= callingFixed) calledPrefixes.add(called!.fixed, index);
    else if (kindCode(calling) === K_ANON) anonymous.push(index);
    else callingPrefixes.add(calling!.fixed, index);
  }

  return new RuleIndex({
    names: names.values,
    strings: strings.values,
    calledExact: calledExact.build(),
    callingExact: callingExact.build(),
    general: packGeneralRules(general),
    calledPrefixes: calledPrefixes.build(),
    callingPrefixes: callingPrefixes.build(),
    anonymousRules: Uint32Array.from(anonymous),
  });
}
