/**
 * Rules that do not fit the compact exact tables (patterns, scopes, both sides set, long numbers).
 * What a lookup reads first is one row of GR_STRIDE words a rule, so checking a rule is one cache
 * line, not a read of every column:
 * [0] GR_WORD: bits 0-1 direction (1 inbound, 2 outbound, 3 both), bit 2 block, bit 3 set when the
 *     rule has a scope (sbc, provider, customer group, user or country: read from the columns), the
 *     called kind << 4, calling kind << 8, called length << 12, calling length << 20 (below 2^28: a
 *     small integer in V8);
 * [1] GR_EXPIRES: expiry in epoch seconds, 0 = never; [2] GR_GROUP: group ref; [3] GR_ID: rule id.
 * The rest are columns, one typed array a field; string fields are refs into the index's string
 * table (0 = none).
 */
export interface GeneralRules {
  readonly count: number;
  readonly rows: Uint32Array;
  readonly calledRef: Uint32Array;
  readonly callingRef: Uint32Array;
  readonly typeRef: Uint32Array;
  readonly sbcRef: Uint32Array;
  readonly providerRef: Uint32Array;
  readonly customerGroupRef: Uint32Array;
  readonly userRef: Uint32Array;
  readonly countryRef: Uint32Array;
  readonly updated: Uint32Array;
}

export const GR_STRIDE = 4;
export const GR_WORD = 0;
export const GR_EXPIRES = 1;
export const GR_GROUP = 2;
export const GR_ID = 3;
export const GR_SCOPED = 8;

/** GR_SCOPED when any of a rule's scope refs is set (the bit a row keeps), 0 otherwise. */
export const scopeFlag = (
  sbc: number,
  provider: number,
  customerGroup: number,
  user: number,
  country: number,
) => (sbc | provider | customerGroup | user | country ? GR_SCOPED : 0);

export const rowDirBits = (word: number): number => word & 3;
export const rowBlocks = (word: number): boolean => (word & 4) !== 0;
export const rowCalledKind = (word: number): number => (word >>> 4) & 15;
export const rowCallingKind = (word: number): number => (word >>> 8) & 15;
export const rowCalledLen = (word: number): number => (word >>> 12) & 255;
export const rowCallingLen = (word: number): number => (word >>> 20) & 255;

export const GENERAL_COLUMNS = [
  'calledRef',
  'callingRef',
  'typeRef',
  'sbcRef',
  'providerRef',
  'customerGroupRef',
  'userRef',
  'countryRef',
  'updated',
] as const;

/** A general rule as the index builder describes it. */
export type GeneralRow = {
  -readonly [K in
    | (typeof GENERAL_COLUMNS)[number]
    | 'id'
    | 'groupRef'
    | 'expires'
    | 'meta'
    | 'calledKind'
    | 'calledLen'
    | 'callingKind'
    | 'callingLen']: number;
};

export function packGeneralRules(list: readonly GeneralRow[]): GeneralRules {
  const count = list.length;
  const rows = new Uint32Array(count * GR_STRIDE);
  for (let r = 0; r < count; r++) {
    const g = list[r];
    const scoped = scopeFlag(g.sbcRef, g.providerRef, g.customerGroupRef, g.userRef, g.countryRef);
    const o = r * GR_STRIDE;
    rows[o + GR_WORD] =
      (g.meta & 7) |
      scoped |
      (g.calledKind << 4) |
      (g.callingKind << 8) |
      (g.calledLen << 12) |
      (g.callingLen << 20);
    rows[o + GR_EXPIRES] = g.expires;
    rows[o + GR_GROUP] = g.groupRef;
    rows[o + GR_ID] = g.id;
  }
  const out: Record<string, Uint32Array | number> = { count, rows };
  for (const f of GENERAL_COLUMNS) {
    const a = new Uint32Array(count);
    for (let i = 0; i < count; i++) a[i] = list[i][f];
    out[f] = a;
  }
  return out as unknown as GeneralRules;
}
