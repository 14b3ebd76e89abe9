/**
 * Rules that do not fit the compact exact tables (patterns, scopes, both sides set, long numbers),
 * as a structure of typed arrays. String fields are refs into the index's string table (0 = none).
 */
export interface GeneralRules {
  readonly count: number;
  readonly id: Uint32Array;
  readonly calledKind: Uint8Array;
  readonly calledLen: Uint8Array;
  readonly calledRef: Uint32Array;
  readonly callingKind: Uint8Array;
  readonly callingLen: Uint8Array;
  readonly callingRef: Uint32Array;
  /** bits 0-1 direction (1 inbound, 2 outbound, 3 both), bit 2 block. */
  readonly meta: Uint8Array;
  readonly groupRef: Uint32Array;
  readonly typeRef: Uint32Array;
  readonly sbcRef: Uint32Array;
  readonly providerRef: Uint32Array;
  readonly customerGroupRef: Uint32Array;
  readonly userRef: Uint32Array;
  readonly countryRef: Uint32Array;
  /** Epoch seconds; 0 = never expires. */
  readonly expires: Uint32Array;
  readonly updated: Uint32Array;
}

export const GENERAL_U32_FIELDS = [
  'id',
  'calledRef',
  'callingRef',
  'groupRef',
  'typeRef',
  'sbcRef',
  'providerRef',
  'customerGroupRef',
  'userRef',
  'countryRef',
  'expires',
  'updated',
] as const;
export const GENERAL_U8_FIELDS = ['calledKind', 'calledLen', 'callingKind', 'callingLen', 'meta'] as const;

export type GeneralRow = {
  -readonly [K in (typeof GENERAL_U32_FIELDS)[number] | (typeof GENERAL_U8_FIELDS)[number]]: number;
};

export function packGeneralRules(rows: readonly GeneralRow[]): GeneralRules {
  const count = rows.length;
  const out: Record<string, Uint32Array | Uint8Array | number> = { count };
  for (const f of GENERAL_U32_FIELDS) {
    const a = new Uint32Array(count);
    for (let i = 0; i < count; i++) a[i] = rows[i][f];
    out[f] = a;
  }
  for (const f of GENERAL_U8_FIELDS) {
    const a = new Uint8Array(count);
    for (let i = 0; i < count; i++) a[i] = rows[i][f];
    out[f] = a;
  }
  return out as unknown as GeneralRules;
}

/**
 * What a lookup reads of a general rule first, one row of GR_STRIDE words per rule so that checking a
 * rule is one cache line, not a read of every column:
 * [0] meta (bits 0-2: direction, block) | bit 3 set when the rule has a scope (sbc, provider,
 *     customer group, user or country: read from the columns) | called kind << 4 | calling kind << 8
 *     | called length << 12 | calling length << 20 (below 2^28: a small integer in V8);
 * [1] expiry (epoch seconds, 0 = never); [2] group ref; [3] rule id.
 * Derived from the columns when an index is built or loaded; a snapshot does not store it.
 */
export const GR_STRIDE = 4;
export const GR_SCOPED = 8;

export function generalRows(g: GeneralRules): Uint32Array {
  const rows = new Uint32Array(g.count * GR_STRIDE);
  for (let r = 0; r < g.count; r++) {
    const scoped =
      g.sbcRef[r] | g.providerRef[r] | g.customerGroupRef[r] | g.userRef[r] | g.countryRef[r] ? GR_SCOPED : 0;
    const o = r * GR_STRIDE;
    rows[o] =
      (g.meta[r] & 7) |
      scoped |
      (g.calledKind[r] << 4) |
      (g.callingKind[r] << 8) |
      (g.calledLen[r] << 12) |
      (g.callingLen[r] << 20);
    rows[o + 1] = g.expires[r];
    rows[o + 2] = g.groupRef[r];
    rows[o + 3] = g.id[r];
  }
  return rows;
}
