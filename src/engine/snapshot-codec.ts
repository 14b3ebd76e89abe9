import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { z } from 'zod';
import { blocklistTypeSchema } from '../domain/blocklist-type.js';
import { cgError } from '../domain/errors.js';
import { actionSchema } from '../domain/rule.js';
import { DecisionEngine } from './decision-engine.js';
import { A_META, ATTR_STRIDE, ExactTable, metaGroupRef, metaTypeRef } from './exact-table.js';
import {
  GENERAL_COLUMNS,
  type GeneralRules,
  GR_GROUP,
  GR_SCOPED,
  GR_STRIDE,
  GR_WORD,
  rowCalledKind,
  rowCallingKind,
  rowDirBits,
  scopeFlag,
} from './general-rules.js';
import { HASH_BITS } from './number-key.js';
import { K_ANON } from './pattern-codes.js';
import { PrefixTable } from './prefix-table.js';
import { RuleIndex } from './rule-index.js';

/**
 * The binary snapshot of a tenant's compiled index (what Redis caches). Layout:
 *   0  magic "CGSNAP01"        8  u32 format version      12 u32 header length H
 *   16 sha256 of bytes 48..end (32 bytes)                 48 header JSON (H bytes)
 *   then each typed array's raw bytes, 8-byte aligned, at the offsets the header lists.
 * Decoding checks the checksum and every structural invariant, then builds views over the buffer:
 * no rebuild, and a corrupt or truncated snapshot is an error, never a wrong answer.
 */
const MAGIC = Buffer.from('CGSNAP01', 'latin1');
/**
 * Bumped whenever the layout of a section changes: a snapshot of another format is refused as
 * corrupt (and rebuilt from the rules), never read with the wrong layout.
 * 2: exact records are 5 words (hi, lo, id, attribute set, updated) with `<side>.attrs` sections;
 *    key hashes (buckets, filters, stems) are 30 bits.
 * 3: the general rules' direction, block, kinds, lengths, expiry, group and id are one `general.rows`
 *    section of 4 words a rule (general-rules.ts) instead of eight columns.
 * 4: the key filters' blocks are 4 words (16 bytes) with one bit set in each, not 8 (key-filter.ts);
 *    stems are placed by stemBit() (prefix-table.ts), not by the key hash.
 */
export const SNAPSHOT_FORMAT_VERSION = 4;
const PREFIX = 48;

const sectionSchema = z.object({
  name: z.string(),
  type: z.enum(['u8', 'u32', 'i32']),
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
});

const headerSchema = z.object({
  version: z.string(),
  createdAt: z.number(),
  endianness: z.literal('LE'),
  defaultAction: actionSchema,
  names: z.array(z.string()),
  strings: z.array(z.string()),
  types: z.array(blocklistTypeSchema),
  bindings: z.array(z.tuple([z.string(), z.array(z.string())])),
  calledExactBits: z.number().int().min(1).max(HASH_BITS),
  calledPrefixes: z.object({
    bits: z.number().int().min(1).max(HASH_BITS),
    lengthMask: z.number().int().min(0),
  }),
  callingPrefixes: z.object({
    bits: z.number().int().min(1).max(HASH_BITS),
    lengthMask: z.number().int().min(0),
  }),
  callingExactBits: z.number().int().min(1).max(HASH_BITS),
  generalCount: z.number().int().min(0),
  sections: z.array(sectionSchema),
});

type TypedArray = Uint8Array | Uint32Array | Int32Array;
const BYTES = { u8: 1, u32: 4, i32: 4 } as const;
const typeOf = (a: TypedArray): 'u8' | 'u32' | 'i32' =>
  a instanceof Uint8Array ? 'u8' : a instanceof Int32Array ? 'i32' : 'u32';

function sectionsOf(index: RuleIndex): Array<[string, TypedArray]> {
  const p = index.parts;
  return [
    ['calledExact.dir', p.calledExact.dir],
    ['calledExact.rec', p.calledExact.rec],
    ['calledExact.filter', p.calledExact.filter],
    ['calledExact.attrs', p.calledExact.attrs],
    ['callingExact.dir', p.callingExact.dir],
    ['callingExact.rec', p.callingExact.rec],
    ['callingExact.filter', p.callingExact.filter],
    ['callingExact.attrs', p.callingExact.attrs],
    ['general.rows', p.general.rows],
    ...GENERAL_COLUMNS.map((f) => [`general.${f}`, p.general[f]] as [string, TypedArray]),
    ...prefixSections('calledPrefixes', p.calledPrefixes),
    ...prefixSections('callingPrefixes', p.callingPrefixes),
    ['anonymousRules', p.anonymousRules],
  ];
}

function prefixSections(name: string, t: PrefixTable): Array<[string, TypedArray]> {
  return [
    [`${name}.dir`, t.dir],
    [`${name}.rec`, t.rec],
    [`${name}.filter`, t.filter],
    [`${name}.ruleIds`, t.ruleIds],
    [`${name}.rootRules`, t.rootRules],
    [`${name}.longRules`, t.longRules],
    [`${name}.stems`, t.stems],
  ];
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeSnapshot(
  engine: DecisionEngine,
  meta: { version: string; createdAt?: number },
): Buffer {
  const compact = engine.overlaySize > 0 || engine.maskedCount > 0 ? engine.compacted() : engine;
  const index = compact.base;
  const sections = sectionsOf(index);
  const options = compact.options();
  const layout: z.infer<typeof sectionSchema>[] = [];
  let offset = 0;
  for (const [name, array] of sections) {
    layout.push({ name, type: typeOf(array), offset, length: array.length });
    offset = align8(offset + array.byteLength);
  }
  const header = Buffer.from(
    JSON.stringify({
      version: meta.version,
      createdAt: meta.createdAt ?? Date.now(),
      endianness: 'LE',
      defaultAction: options.defaultAction,
      names: index.parts.names,
      strings: index.parts.strings,
      types: [...options.types],
      bindings: [...options.bindings],
      calledExactBits: index.parts.calledExact.bits,
      calledPrefixes: {
        bits: index.parts.calledPrefixes.bits,
        lengthMask: index.parts.calledPrefixes.lengthMask,
      },
      callingPrefixes: {
        bits: index.parts.callingPrefixes.bits,
        lengthMask: index.parts.callingPrefixes.lengthMask,
      },
      callingExactBits: index.parts.callingExact.bits,
      generalCount: index.parts.general.count,
      sections: layout,
    }),
    'utf8',
  );
  const bodyStart = align8(PREFIX + header.length);
  const out = Buffer.alloc(bodyStart + offset);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, PREFIX);
  sections.forEach(([, array], i) => {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), bodyStart + layout[i].offset);
  });
  createHash('sha256').update(out.subarray(PREFIX)).digest().copy(out, 16);
  return out;
}

function corrupt(why: string): never {
  throw cgError(
    'CG_ERR_SNAPSHOT_CORRUPT',
    `rule snapshot is corrupt or truncated: ${why}; it must be rebuilt`,
  );
}

export interface DecodedSnapshot {
  readonly engine: DecisionEngine;
  readonly version: string;
  readonly createdAt: number;
}

export interface DecodeOptions {
  /** The bytes were just made by encodeSnapshot() in this process (or a thread of it): skip the checks. */
  readonly verified?: boolean;
}

/** A snapshot's header: plain data (a thread can read it and hand it over with postMessage). */
export type SnapshotHeader = z.infer<typeof headerSchema>;

export function decodeSnapshot(input: Uint8Array, options: DecodeOptions = {}): DecodedSnapshot {
  const check = options.verified !== true;
  // Views need aligned memory; a Buffer from a socket may start anywhere in its pool.
  const bytes = input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  return snapshotFromHeader(bytes, readSnapshotHeader(bytes, { check }), { check });
}

/**
 * The first half of decodeSnapshot(): checks the prefix (magic, format version, lengths and, when
 * `check`, the checksum), then parses and validates the header. Split out so that a thread can run
 * it: the header holds every string of the index (megabytes of JSON at 10M rules).
 */
export function readSnapshotHeader(bytes: Uint8Array, options: { readonly check: boolean }): SnapshotHeader {
  if (endianness() !== 'LE') corrupt('this machine is big-endian; snapshots are little-endian');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX) corrupt(`${buf.length} bytes is shorter than the ${PREFIX}-byte prefix`);
  if (!buf.subarray(0, 8).equals(MAGIC)) corrupt('it does not start with the snapshot magic');
  const format = buf.readUInt32LE(8);
  if (format !== SNAPSHOT_FORMAT_VERSION)
    corrupt(`format version ${format}, this build reads ${SNAPSHOT_FORMAT_VERSION}`);
  const headerLength = buf.readUInt32LE(12);
  if (PREFIX + headerLength > buf.length) corrupt('the header runs past the end');
  if (options.check) {
    const digest = createHash('sha256').update(buf.subarray(PREFIX)).digest();
    if (!digest.equals(buf.subarray(16, 48))) corrupt('checksum mismatch');
  }
  try {
    return headerSchema.parse(JSON.parse(buf.subarray(PREFIX, PREFIX + headerLength).toString('utf8')));
  } catch (error) {
    corrupt(`bad header (${(error as Error).message.slice(0, 200)})`);
  }
}

/**
 * The second half of decodeSnapshot(): the engine over views of `bytes` (8-byte aligned, no copy)
 * as `header` (from readSnapshotHeader() of these bytes) lays them out; with `check`, every
 * structural invariant is checked first.
 */
export function snapshotFromHeader(
  bytes: Uint8Array,
  header: SnapshotHeader,
  options: { readonly check: boolean },
): DecodedSnapshot {
  const check = options.check;
  if (bytes.byteOffset % 8 !== 0) throw new Error('snapshot views need bytes that start 8-byte aligned');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = buf.readUInt32LE(12);
  const bodyStart = align8(PREFIX + headerLength);
  const arrays = new Map<string, TypedArray>();
  for (const s of header.sections) {
    const start = bodyStart + s.offset;
    const byteLength = s.length * BYTES[s.type];
    if (s.offset % 8 !== 0 || start + byteLength > buf.length) corrupt(`section ${s.name} is out of bounds`);
    const at = bytes.byteOffset + start;
    const view =
      s.type === 'u8'
        ? new Uint8Array(bytes.buffer, at, s.length)
        : s.type === 'u32'
          ? new Uint32Array(bytes.buffer, at, s.length)
          : new Int32Array(bytes.buffer, at, s.length);
    arrays.set(s.name, view);
  }
  const get = <T extends TypedArray>(name: string, ctor: new (...a: never[]) => T): T => {
    const a = arrays.get(name);
    if (!(a instanceof ctor)) corrupt(`section ${name} is missing or of the wrong type`);
    return a as T;
  };

  const names = header.names;
  const strings = header.strings;
  const exact = (side: 'calledExact' | 'callingExact', bits: number) => {
    const table = new ExactTable(
      get(`${side}.dir`, Uint32Array),
      get(`${side}.rec`, Uint32Array),
      get(`${side}.filter`, Uint32Array),
      bits,
      get(`${side}.attrs`, Uint32Array),
    );
    if (!check) return table;
    if (!table.isWellFormed()) corrupt(`${side} table is malformed`);
    const attrs = table.attrs;
    for (let a = A_META; a < attrs.length; a += ATTR_STRIDE) {
      const meta = attrs[a];
      if ((meta & 3) === 0 || metaGroupRef(meta) > names.length || metaTypeRef(meta) > names.length) {
        corrupt(`${side} attribute set ${(a - A_META) / ATTR_STRIDE} is malformed`);
      }
    }
    return table;
  };
  const calledExact = exact('calledExact', header.calledExactBits);
  const callingExact = exact('callingExact', header.callingExactBits);

  const count = header.generalCount;
  const general = { count, rows: get('general.rows', Uint32Array) } as Record<string, unknown>;
  for (const f of GENERAL_COLUMNS) general[f] = get(`general.${f}`, Uint32Array);
  const g = general as unknown as GeneralRules;
  if (g.rows.length !== count * GR_STRIDE) corrupt('general.rows has the wrong length');
  for (const f of GENERAL_COLUMNS) {
    if ((general[f] as TypedArray).length !== count) corrupt(`general.${f} has the wrong length`);
  }
  for (let r = 0; check && r < count; r++) {
    const w = g.rows[r * GR_STRIDE + GR_WORD];
    const scoped = scopeFlag(
      g.sbcRef[r],
      g.providerRef[r],
      g.customerGroupRef[r],
      g.userRef[r],
      g.countryRef[r],
    );
    if (
      rowDirBits(w) === 0 ||
      rowCalledKind(w) > K_ANON ||
      rowCallingKind(w) > K_ANON ||
      w >= 2 ** 28 ||
      (w & GR_SCOPED) !== scoped
    )
      corrupt(`general rule ${r} is malformed`);
    if (g.rows[r * GR_STRIDE + GR_GROUP] > names.length || g.typeRef[r] > names.length)
      corrupt(`general rule ${r} has a bad name ref`);
    for (const ref of [
      g.calledRef[r],
      g.callingRef[r],
      g.sbcRef[r],
      g.providerRef[r],
      g.customerGroupRef[r],
      g.userRef[r],
      g.countryRef[r],
    ]) {
      if (ref > strings.length) corrupt(`general rule ${r} has a bad string ref`);
    }
  }
  const prefixes = (side: 'calledPrefixes' | 'callingPrefixes') => {
    const t = new PrefixTable(
      get(`${side}.dir`, Uint32Array),
      get(`${side}.rec`, Uint32Array),
      get(`${side}.filter`, Uint32Array),
      header[side].bits,
      header[side].lengthMask,
      get(`${side}.ruleIds`, Uint32Array),
      get(`${side}.rootRules`, Uint32Array),
      get(`${side}.longRules`, Uint32Array),
      get(`${side}.stems`, Uint32Array),
    );
    if (check && !t.isWellFormed(count)) corrupt(`${side} table is malformed`);
    return t;
  };
  const anonymousRules = get('anonymousRules', Uint32Array);
  if (check) for (const r of anonymousRules) if (r >= count) corrupt('anonymous rule list is malformed');

  const index = new RuleIndex({
    names,
    strings,
    calledExact,
    callingExact,
    general: g,
    calledPrefixes: prefixes('calledPrefixes'),
    callingPrefixes: prefixes('callingPrefixes'),
    anonymousRules,
  });
  const engine = DecisionEngine.fromIndex(index, {
    types: header.types,
    bindings: header.bindings,
    defaultAction: header.defaultAction,
  });
  return { engine, version: header.version, createdAt: header.createdAt };
}
