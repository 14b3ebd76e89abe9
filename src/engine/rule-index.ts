import { type CallContext, callingCountryOf } from '../domain/call-context.js';
import type { MatchedRule } from '../domain/decision.js';
import { ANONYMOUS } from '../domain/number.js';
import type { Direction } from '../domain/rule.js';
import type { CallKeys } from './call-keys.js';
import {
  type CandidateOwner,
  type CandidateSet,
  type MutablePrecedenceKey,
  SRC_CALLED_EXACT,
  SRC_CALLING_EXACT,
  SRC_GENERAL,
} from './candidates.js';
import {
  A_EXPIRES,
  A_META,
  ATTR_STRIDE,
  type ExactTable,
  F_ATTR,
  F_HI,
  F_ID,
  F_LO,
  F_UPDATED,
  metaDirBits,
  metaGroupRef,
  metaTypeRef,
  STRIDE,
} from './exact-table.js';
import {
  type GeneralRules,
  GR_EXPIRES,
  GR_GROUP,
  GR_ID,
  GR_STRIDE,
  GR_WORD,
  rowBlocks,
  rowCalledKind,
  rowCalledLen,
  rowCallingKind,
  rowCallingLen,
  rowDirBits,
} from './general-rules.js';
import type { LookupScope } from './lookup-scope.js';
import { HEAD_CHARS, packedLength, unpackNumber } from './number-key.js';
import { K_EXACT, K_NONE, patternText, restMatches, sideMatches, specificityOf } from './pattern-codes.js';
import type { PrefixTable } from './prefix-table.js';

const DIRECTIONS: readonly (Direction | undefined)[] = [undefined, 'inbound', 'outbound', 'both'];

/** The parts of a compiled index; exactly what a snapshot stores. */
export interface IndexParts {
  /** Group and type ids (refs 1..16383 fit a compact record). */
  readonly names: readonly string[];
  /** Pattern prefixes, scope values and countries of the general rules. */
  readonly strings: readonly string[];
  readonly calledExact: ExactTable;
  readonly callingExact: ExactTable;
  readonly general: GeneralRules;
  readonly calledPrefixes: PrefixTable;
  readonly callingPrefixes: PrefixTable;
  /** General rules whose calling side is `anonymous` and that are not indexed by their called side. */
  readonly anonymousRules: Uint32Array;
}

/**
 * A compiled, immutable index over a rule list (the list is the truth; the index is rebuilt from it).
 * collect() offers every rule that matches a call to a CandidateSet; it allocates nothing.
 */
export class RuleIndex implements CandidateOwner {
  // The parts the call path reads, as own fields set once: a decision reads each with one load.
  private readonly calledExact: ExactTable;
  private readonly callingExact: ExactTable;
  private readonly calledPrefixes: PrefixTable;
  private readonly callingPrefixes: PrefixTable;
  /** Whether each prefix table has rules at all, and rules it checks for every number (root, long). */
  private readonly calledPrefixRules: boolean;
  private readonly callingPrefixRules: boolean;
  private readonly calledEveryNumber: boolean;
  private readonly callingEveryNumber: boolean;
  /** Whether a number must be read whole before its prefix table is asked (see collect). */
  private readonly calledWholeFirst: boolean;
  private readonly callingWholeFirst: boolean;
  private readonly anonymousRules: Uint32Array;
  /** The general rules' first-read fields, one row a rule (general-rules.ts). */
  private readonly generalRows: Uint32Array;

  constructor(readonly parts: IndexParts) {
    this.generalRows = parts.general.rows;
    this.calledExact = parts.calledExact;
    this.callingExact = parts.callingExact;
    this.calledPrefixes = parts.calledPrefixes;
    this.callingPrefixes = parts.callingPrefixes;
    this.calledPrefixRules = !parts.calledPrefixes.isEmpty;
    this.callingPrefixRules = !parts.callingPrefixes.isEmpty;
    this.calledEveryNumber = parts.calledPrefixes.checksEveryNumber;
    this.callingEveryNumber = parts.callingPrefixes.checksEveryNumber;
    this.calledWholeFirst = this.calledEveryNumber || parts.calledPrefixes.stemLength > HEAD_CHARS;
    this.callingWholeFirst = this.callingEveryNumber || parts.callingPrefixes.stemLength > HEAD_CHARS;
    this.anonymousRules = parts.anonymousRules;
  }

  get ruleCount(): number {
    return this.parts.calledExact.size + this.parts.callingExact.size + this.parts.general.count;
  }

  // hot path
  collect(keys: CallKeys, ctx: CallContext, scope: LookupScope, into: CandidateSet): void {
    const dirBit = keys.dirBit;
    const calledExact = this.calledExact;
    const callingExact = this.callingExact;
    const calledKey = keys.called;
    const callingKey = keys.calling;
    // Flags and the results of calls that are not inlined are compared with `=== true`: TurboFan
    // cannot tell their type, and a bare `if (x)` tests x for every falsy kind (false, '', 0, NaN,
    // 0n, document.all), ten instructions where one will do (docs/DECISIONS.md).
    // A side is read past its head only for an exact table its direction reaches (call-keys.ts).
    const called =
      (calledExact.directions & dirBit) !== 0 &&
      keys.calledPacked === true &&
      keys.completeCalled(ctx.called) === true;
    const calling =
      (callingExact.directions & dirBit) !== 0 &&
      keys.callingPacked === true &&
      keys.completeCalling(ctx.calling) === true;
    // The filter turns most numbers away; only a number it lets through pays for the scan's call.
    // 0 and 1 are SRC_CALLED_EXACT and SRC_CALLING_EXACT (literals: see call-keys.ts).
    if (called && calledExact.mayHave(calledKey) === true)
      this.scanExact(calledExact, calledKey, 0, keys, ctx, scope, into);
    if (calling && callingExact.mayHave(callingKey) === true) {
      this.scanExact(callingExact, callingKey, 1, keys, ctx, scope, into);
    }
    // The stem test needs only the head, unless the stem is longer than eight characters; rules
    // checked for every number, and the probes, need the whole number (and that it is all 0-9 * #).
    if (keys.calledPacked === true && this.calledPrefixRules === true) {
      const table = this.calledPrefixes;
      if (this.calledWholeFirst === true) keys.completeCalled(ctx.called);
      if (keys.calledPacked === true) {
        if (this.calledEveryNumber === true) this.checkEveryNumber(table, keys, ctx, scope, into);
        const length = keys.calledLength;
        if (table.mayMatch(calledKey, length)) {
          keys.completeCalled(ctx.called);
          if (keys.calledPacked === true)
            this.probePrefixes(table, calledKey, length, 1, keys, ctx, scope, into);
        }
      }
    }
    if (keys.callingPacked === true && this.callingPrefixRules === true) {
      const table = this.callingPrefixes;
      if (this.callingWholeFirst === true) keys.completeCalling(ctx.calling);
      if (keys.callingPacked === true) {
        if (this.callingEveryNumber === true) this.checkEveryNumber(table, keys, ctx, scope, into);
        const length = keys.callingLength;
        if (table.mayMatch(callingKey, length)) {
          keys.completeCalling(ctx.calling);
          if (keys.callingPacked === true)
            this.probePrefixes(table, callingKey, length, 2, keys, ctx, scope, into);
        }
      }
    }
    if (this.anonymousRules.length !== 0 && ctx.calling === ANONYMOUS) {
      const list = this.anonymousRules;
      for (let i = 0; i < list.length; i++) this.checkGeneral(list[i], 0, 0, keys, ctx, scope, into);
    }
  }

  /** The records of the key's bucket; called only when the filter let the number through. */
  private scanExact(
    table: ExactTable,
    key: Uint32Array,
    source: number,
    keys: CallKeys,
    ctx: CallContext,
    scope: LookupScope,
    into: CandidateSet,
  ): void {
    const start = table.bucketStart(key);
    const end = table.bucketEnd(key);
    const { rec, attrs } = table;
    const dirBit = keys.dirBit;
    const hi = key[0];
    const lo = key[1];
    let offered = 0;
    for (let o = start; o < end; o += STRIDE) {
      if (rec[o + F_HI] !== hi || rec[o + F_LO] !== lo) continue;
      const a = rec[o + F_ATTR] * ATTR_STRIDE;
      const meta = attrs[a + A_META];
      if ((meta & dirBit) === 0) continue;
      const expires = attrs[a + A_EXPIRES];
      if (expires !== 0 && expires * 1000 <= ctx.at) continue;
      const groupRef = metaGroupRef(meta);
      if (groupRef !== 0 && !scope.groups.has(ctx.task, this.parts.names[groupRef - 1])) continue;
      if (scope.masked?.has(rec[o + F_ID])) continue;
      into.offer(this, source, o);
      // Records of one number are in precedence order: the first two that match are all the set can use.
      if (++offered === 2) return;
    }
  }

  /** The rules of a prefix table that no prefix lookup finds (empty prefix, or longer than a key). */
  private checkEveryNumber(
    table: PrefixTable,
    keys: CallKeys,
    ctx: CallContext,
    scope: LookupScope,
    into: CandidateSet,
  ): void {
    for (let i = 0; i < table.rootRules.length; i++)
      this.checkGeneral(table.rootRules[i], 0, 0, keys, ctx, scope, into);
    for (let i = 0; i < table.longRules.length; i++)
      this.checkGeneral(table.longRules[i], 0, 0, keys, ctx, scope, into);
  }

  /**
   * Looks up every prefix length the table has; called only when the number's stem may match.
   * `side` is the side the table indexes (1 called, 2 calling): a rule found at length l has its
   * fixed part proven equal to the number's first l characters.
   */
  private probePrefixes(
    table: PrefixTable,
    key: Uint32Array,
    length: number,
    side: number,
    keys: CallKeys,
    ctx: CallContext,
    scope: LookupScope,
    into: CandidateSet,
  ): void {
    const { rec, ruleIds } = table;
    // Bit l of the mask is prefix length l. Only the lengths the table has, up to the number's own
    // length (16 = MAX_KEY_CHARS, the most a key holds), lowest first: a walk over every length
    // from 1 cost ~100 instructions a probe call in empty turns.
    let mask = table.lengthMask & ((2 << Math.min(length, 16)) - 1);
    while (mask !== 0) {
      const l = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      const o = table.find(key, l);
      if (o < 0) continue;
      const end = rec[o + 3];
      for (let i = rec[o + 2]; i < end; i++) this.checkGeneral(ruleIds[i], side, l, keys, ctx, scope, into);
    }
  }

  /**
   * Offers general rule r if it matches the call. `proven` is the side (1 called, 2 calling) whose
   * first `fixedChars` characters a prefix lookup found equal to the rule's fixed part, 0 for none.
   */
  private checkGeneral(
    r: number,
    proven: number,
    fixedChars: number,
    keys: CallKeys,
    ctx: CallContext,
    scope: LookupScope,
    into: CandidateSet,
  ): void {
    // The row's offsets and bit fields as literals (general-rules.ts; imported constants cost a load
    // each in optimised code, see call-keys.ts).
    const rows = this.generalRows;
    const o = r * 4;
    const w = rows[o];
    if ((w & keys.dirBit) === 0) return;
    const expires = rows[o + 1];
    if (expires !== 0 && expires * 1000 <= ctx.at) return;
    if (scope.masked?.has(rows[o + 3])) return;
    const groupRef = rows[o + 2];
    if (groupRef !== 0 && !scope.groups.has(ctx.task, this.parts.names[groupRef - 1])) return;
    if ((w & 8) !== 0 && !this.scopeMatches(r, ctx)) return;
    const g = this.parts.general;
    if (!this.sideOk((w >>> 4) & 15, (w >>> 12) & 255, ctx.called, proven === 1, fixedChars, g.calledRef, r))
      return;
    if (
      !this.sideOk((w >>> 8) & 15, (w >>> 20) & 255, ctx.calling, proven === 2, fixedChars, g.callingRef, r)
    )
      return;
    into.offer(this, SRC_GENERAL, r);
  }

  /** The scope fields of general rule r (sbc, provider, customer group, user, country) against the call. */
  private scopeMatches(r: number, ctx: CallContext): boolean {
    const g = this.parts.general;
    const strings = this.parts.strings;
    if (g.sbcRef[r] !== 0 && strings[g.sbcRef[r] - 1] !== ctx.sbc) return false;
    if (g.providerRef[r] !== 0 && strings[g.providerRef[r] - 1] !== ctx.provider) return false;
    if (g.customerGroupRef[r] !== 0 && strings[g.customerGroupRef[r] - 1] !== ctx.customerGroup) return false;
    if (g.userRef[r] !== 0 && strings[g.userRef[r] - 1] !== ctx.user) return false;
    if (g.countryRef[r] !== 0 && strings[g.countryRef[r] - 1] !== callingCountryOf(ctx)) return false;
    return true;
  }

  /**
   * One side of general rule r (its kind, length and the column of fixed-part refs) against the
   * call's number; `proven`: a prefix lookup found the number's first `fixedChars` characters equal
   * to the fixed part, so the fixed part is not read.
   */
  private sideOk(
    kind: number,
    length: number,
    number: string,
    proven: boolean,
    fixedChars: number,
    fixedRefs: Uint32Array,
    r: number,
  ): boolean {
    if (kind === K_NONE) return true;
    if (proven) return restMatches(kind, length, number, fixedChars);
    const ref = fixedRefs[r];
    return sideMatches(kind, ref === 0 ? '' : this.parts.strings[ref - 1], length, number);
  }

  private exactTable(source: number): ExactTable {
    return source === SRC_CALLED_EXACT ? this.parts.calledExact : this.parts.callingExact;
  }

  /** The meta word (direction, action, group and type refs) of an exact record. */
  private exactMeta(source: number, o: number): number {
    const t = this.exactTable(source);
    return t.attrs[t.rec[o + F_ATTR] * ATTR_STRIDE + A_META];
  }

  blocksAt(source: number, pos: number): boolean {
    if (source === SRC_GENERAL) return rowBlocks(this.generalRows[pos * GR_STRIDE + GR_WORD]);
    return (this.exactMeta(source, pos) & 4) !== 0;
  }

  idAt(source: number, pos: number): number {
    if (source === SRC_GENERAL) return this.generalRows[pos * GR_STRIDE + GR_ID];
    return this.exactTable(source).rec[pos + F_ID];
  }

  typeIdAt(source: number, pos: number): string | undefined {
    const ref =
      source === SRC_GENERAL ? this.parts.general.typeRef[pos] : metaTypeRef(this.exactMeta(source, pos));
    return ref === 0 ? undefined : this.parts.names[ref - 1];
  }

  keyInto(source: number, pos: number, out: MutablePrecedenceKey): void {
    if (source !== SRC_GENERAL) {
      this.exactKeyInto(source, pos, out);
      return;
    }
    const r = pos;
    const g = this.parts.general;
    const o = r * GR_STRIDE;
    const w = this.generalRows[o + GR_WORD];
    const calledFixed = g.calledRef[r] === 0 ? '' : this.parts.strings[g.calledRef[r] - 1];
    const callingFixed = g.callingRef[r] === 0 ? '' : this.parts.strings[g.callingRef[r] - 1];
    const user = g.userRef[r] !== 0;
    const cg = g.customerGroupRef[r] !== 0;
    const provider = g.providerRef[r] !== 0;
    const sbc = g.sbcRef[r] !== 0;
    out.called = specificityOf(rowCalledKind(w), calledFixed.length);
    out.calling = specificityOf(rowCallingKind(w), callingFixed.length);
    out.scopeDepth = user ? 4 : cg ? 3 : provider ? 2 : sbc ? 1 : 0;
    out.scopeCount = (user ? 1 : 0) + (cg ? 1 : 0) + (provider ? 1 : 0) + (sbc ? 1 : 0);
    out.groupBound = this.generalRows[o + GR_GROUP] !== 0 ? 1 : 0;
    out.country = g.countryRef[r] !== 0 ? 1 : 0;
    out.block = rowBlocks(w) ? 1 : 0;
    out.updatedAt = g.updated[r] * 1000;
    out.id = this.generalRows[o + GR_ID];
  }

  private exactKeyInto(source: number, o: number, out: MutablePrecedenceKey): void {
    const rec = this.exactTable(source).rec;
    const meta = this.exactMeta(source, o);
    const spec = specificityOf(K_EXACT, packedLength(rec[o + F_HI], rec[o + F_LO]));
    out.called = source === SRC_CALLED_EXACT ? spec : -1;
    out.calling = source === SRC_CALLING_EXACT ? spec : -1;
    out.scopeDepth = 0;
    out.scopeCount = 0;
    out.groupBound = metaGroupRef(meta) !== 0 ? 1 : 0;
    out.country = 0;
    out.block = (meta & 4) !== 0 ? 1 : 0;
    out.updatedAt = rec[o + F_UPDATED] * 1000;
    out.id = rec[o + F_ID];
  }

  materializeAt(source: number, pos: number): MatchedRule {
    return source === SRC_GENERAL ? this.materializeGeneral(pos) : this.materializeExact(source, pos);
  }

  private materializeExact(source: number, o: number): MatchedRule {
    const table = this.exactTable(source);
    const rec = table.rec;
    const a = rec[o + F_ATTR] * ATTR_STRIDE;
    const meta = table.attrs[a + A_META];
    const number = unpackNumber(rec[o + F_HI], rec[o + F_LO]);
    const groupRef = metaGroupRef(meta);
    const typeRef = metaTypeRef(meta);
    return clean({
      id: rec[o + F_ID],
      called: source === SRC_CALLED_EXACT ? number : undefined,
      calling: source === SRC_CALLING_EXACT ? number : undefined,
      direction: DIRECTIONS[metaDirBits(meta)] as Direction,
      action: (meta & 4) !== 0 ? 'block' : 'allow',
      groupId: groupRef ? this.parts.names[groupRef - 1] : undefined,
      typeId: typeRef ? this.parts.names[typeRef - 1] : undefined,
      expiresAt: table.attrs[a + A_EXPIRES] ? table.attrs[a + A_EXPIRES] * 1000 : undefined,
      updatedAt: rec[o + F_UPDATED] * 1000,
    });
  }

  private materializeGeneral(r: number): MatchedRule {
    const g = this.parts.general;
    const o = r * GR_STRIDE;
    const w = this.generalRows[o + GR_WORD];
    const expires = this.generalRows[o + GR_EXPIRES];
    const s = (ref: number) => (ref === 0 ? undefined : this.parts.strings[ref - 1]);
    const n = (ref: number) => (ref === 0 ? undefined : this.parts.names[ref - 1]);
    return clean({
      id: this.generalRows[o + GR_ID],
      called: patternText(rowCalledKind(w), s(g.calledRef[r]) ?? '', rowCalledLen(w)),
      calling: patternText(rowCallingKind(w), s(g.callingRef[r]) ?? '', rowCallingLen(w)),
      direction: DIRECTIONS[rowDirBits(w)] as Direction,
      action: rowBlocks(w) ? 'block' : 'allow',
      groupId: n(this.generalRows[o + GR_GROUP]),
      typeId: n(g.typeRef[r]),
      sbc: s(g.sbcRef[r]),
      provider: s(g.providerRef[r]),
      customerGroup: s(g.customerGroupRef[r]),
      user: s(g.userRef[r]),
      callingCountry: s(g.countryRef[r]),
      expiresAt: expires ? expires * 1000 : undefined,
      updatedAt: g.updated[r] * 1000,
    });
  }

  /** Every rule of the index, materialised (for rebuilds, snapshots of overlays, exports and dumps). */
  *rules(): IterableIterator<MatchedRule> {
    for (const [table, source] of [
      [this.parts.calledExact, SRC_CALLED_EXACT],
      [this.parts.callingExact, SRC_CALLING_EXACT],
    ] as const) {
      for (let o = 0; o < table.rec.length; o += STRIDE) yield this.materializeExact(source, o);
    }
    for (let r = 0; r < this.parts.general.count; r++) yield this.materializeGeneral(r);
  }
}

/** Keeps only the defined fields, so materialised rules compare equal to stored ones. */
function clean(rule: Record<string, unknown>): MatchedRule {
  const out: Record<string, unknown> = {};
  for (const k in rule) if (rule[k] !== undefined) out[k] = rule[k];
  return out as MatchedRule;
}
