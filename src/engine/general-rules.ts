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
