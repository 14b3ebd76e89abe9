import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { cgError } from '../domain/errors.js';
import {
  type DecodedSnapshot,
  decodeSnapshot,
  readSnapshotHeader,
  type SnapshotHeader,
  snapshotFromHeader,
} from '../engine/snapshot-codec.js';

/** Strings packed: all of them in one string, and where each ends in it (UTF-16 code units). */
export interface PackedStrings {
  readonly text: string;
  readonly ends: Uint32Array;
}

/**
 * What the snapshot reader thread hands over besides the bytes: the header it parsed and checked,
 * with the index's strings packed apart (a typed array moves without a copy, and one long string is
 * cloned in one piece), and for each string the position of the same string among those the loop
 * already holds (-1: none); or why the bytes are corrupt.
 */
export type SnapshotHandover =
  | (PackedStrings & { readonly header: SnapshotHeader; readonly held: Int32Array })
  | { readonly corrupt: string };

/**
 * Only strings shorter than this are reused. V8 makes `slice` of 13 or more characters a view into
 * the whole text (a SlicedString) and copies shorter ones: a long string reused into the next index
 * would keep its whole text (megabytes) alive, then the next, one text per rebuild. Long strings
 * are made again at every swap, so a text lives exactly as long as its own index.
 */
const REUSE_BELOW = 13;

const unpack = ({ text, ends }: PackedStrings, i: number): string =>
  text.slice(i === 0 ? 0 : ends[i - 1], ends[i]);

/**
 * The reader thread's side: decodes `bytes` (8-byte aligned) with every check and packs the header
 * for the hand-over, finding each string in `held` (the strings of the index the loop holds now).
 * The bytes fail here, on the thread, or never.
 */
export function prepareHandover(bytes: Uint8Array, held?: PackedStrings): SnapshotHandover {
  try {
    const header = readSnapshotHeader(bytes, { check: true });
    snapshotFromHeader(bytes, header, { check: true });
    const strings = header.strings;
    const ends = new Uint32Array(strings.length);
    const heldAt = new Map<string, number>();
    for (let j = 0; held && j < held.ends.length; j++) {
      const s = unpack(held, j);
      if (s.length < REUSE_BELOW) heldAt.set(s, j);
    }
    const found = new Int32Array(strings.length);
    let end = 0;
    strings.forEach((s, i) => {
      end += s.length;
      ends[i] = end;
      found[i] = heldAt.get(s) ?? -1;
    });
    return { header: { ...header, strings: [] }, text: strings.join(''), ends, held: found };
  } catch (error) {
    return { corrupt: (error as Error).message };
  }
}

/** The packed form of each strings array adopted here: what the next read of its tenant sends the thread. */
const packedOf = new WeakMap<readonly string[], PackedStrings>();

/** The packed form of strings adopted by adoptSnapshot(), for the reader thread; else undefined. */
export function packedStringsOf(strings: readonly string[] | undefined): PackedStrings | undefined {
  return strings && packedOf.get(strings);
}

/** Longest run of work on the event loop while strings are unpacked; then it yields. */
const SLICE_MS = 2;

export interface AdoptedSnapshot {
  readonly decoded: DecodedSnapshot;
  /** Time the event loop spent adopting it, in ms, and in how many slices (the longest one). */
  readonly busyMs: number;
  /**
   * CPU time the process used during those slices (the loop's work and the collector's helpers): a
   * figure that, unlike busyMs, does not grow while the machine is busy and the thread waits for a core.
   */
  readonly cpuMs: number;
  readonly slices: number;
  readonly longestSliceMs: number;
  /** Strings that were already held (not made again). */
  readonly reused?: number;
}

/**
 * The engine of a snapshot read by SnapshotStore.read(). Bytes the reader thread checked and handed
 * over cost this thread only the strings, in slices of ~2 ms with a yield between them, and views
 * over the bytes: no JSON, no checksum, no check of a record, no copy. A string the index in use
 * already has (`held`: the strings the read was given) is that very string, not a copy: a rebuilt
 * snapshot of a tenant has mostly the same prefixes and scope values, and each string made here is
 * young garbage-collector work (198k of them at 10M rules). Bytes read here (small snapshots) are
 * decoded here in full. Corrupt bytes throw CG_ERR_SNAPSHOT_CORRUPT.
 */
export async function adoptSnapshot(
  read: { readonly bytes: Uint8Array; readonly handover?: SnapshotHandover },
  held: readonly string[] = [],
): Promise<AdoptedSnapshot> {
  const handover = read.handover;
  let busyMs = 0;
  let cpuMs = 0;
  let slices = 0;
  let longestSliceMs = 0;
  let sliceStart = performance.now();
  let sliceCpu = process.cpuUsage();
  const startSlice = () => {
    sliceStart = performance.now();
    sliceCpu = process.cpuUsage();
  };
  const endSlice = () => {
    const ms = performance.now() - sliceStart;
    const cpu = process.cpuUsage(sliceCpu);
    busyMs += ms;
    cpuMs += (cpu.user + cpu.system) / 1000;
    slices++;
    longestSliceMs = Math.max(longestSliceMs, ms);
  };
  const round = (ms: number) => Number(ms.toFixed(2));
  const timing = () => ({
    busyMs: round(busyMs),
    cpuMs: round(cpuMs),
    slices,
    longestSliceMs: round(longestSliceMs),
  });
  if (!handover) {
    const decoded = decodeSnapshot(read.bytes);
    endSlice();
    return { decoded, ...timing() };
  }
  if ('corrupt' in handover) throw cgError('CG_ERR_SNAPSHOT_CORRUPT', handover.corrupt);
  const { text, ends } = handover;
  // Pushed one by one: a packed array, as JSON.parse makes, for the lookups that index it.
  const strings: string[] = [];
  let reused = 0;
  for (let i = 0, start = 0; i < ends.length; i++) {
    const j = handover.held[i]!;
    const same = j >= 0 && j < held.length && held[j]!.length === ends[i]! - start ? held[j]! : undefined;
    // Checked without a copy: the thread matched against the strings it was sent, these are the ones held now.
    if (same !== undefined && text.startsWith(same, start)) {
      strings.push(same);
      reused++;
    } else {
      strings.push(text.slice(start, ends[i]));
    }
    start = ends[i]!;
    if ((i & 1023) === 1023 && performance.now() - sliceStart >= SLICE_MS) {
      endSlice();
      await yieldToLoop();
      startSlice();
    }
  }
  const decoded = snapshotFromHeader(read.bytes, { ...handover.header, strings }, { check: false });
  packedOf.set(strings, { text, ends });
  endSlice();
  return { decoded, ...timing(), reused };
}
