import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { cgError } from '../domain/errors.js';
import {
  type DecodedSnapshot,
  decodeSnapshot,
  readSnapshotHeader,
  type SnapshotHeader,
  snapshotFromHeader,
} from '../engine/snapshot-codec.js';

/**
 * What the snapshot reader thread hands over besides the bytes: the header it parsed and checked,
 * with the index's strings packed apart (one string and the end of each in it: a typed array moves
 * without a copy, and one long string is cloned in one piece), or why the bytes are corrupt.
 */
export type SnapshotHandover =
  | { readonly header: SnapshotHeader; readonly text: string; readonly ends: Uint32Array }
  | { readonly corrupt: string };

/**
 * The reader thread's side: decodes `bytes` (8-byte aligned) with every check and packs the header
 * for the hand-over. The bytes fail here, on the thread, or never.
 */
export function prepareHandover(bytes: Uint8Array): SnapshotHandover {
  try {
    const header = readSnapshotHeader(bytes, { check: true });
    snapshotFromHeader(bytes, header, { check: true });
    const ends = new Uint32Array(header.strings.length);
    let end = 0;
    header.strings.forEach((s, i) => {
      end += s.length;
      ends[i] = end;
    });
    return { header: { ...header, strings: [] }, text: header.strings.join(''), ends };
  } catch (error) {
    return { corrupt: (error as Error).message };
  }
}

/** Longest run of work on the event loop while strings are unpacked; then it yields. */
const SLICE_MS = 2;

export interface AdoptedSnapshot {
  readonly decoded: DecodedSnapshot;
  /** Time the event loop spent adopting it, in ms, and in how many slices (the longest one). */
  readonly busyMs: number;
  readonly slices: number;
  readonly longestSliceMs: number;
}

/**
 * The engine of a snapshot read by SnapshotStore.read(). Bytes the reader thread checked and handed
 * over cost this thread only the unpacking of the strings, in slices of ~2 ms with a yield between
 * them, and views over the bytes: no JSON, no checksum, no check of a record, no copy. Bytes read
 * here (small snapshots) are decoded here in full. Corrupt bytes throw CG_ERR_SNAPSHOT_CORRUPT.
 */
export async function adoptSnapshot(read: {
  readonly bytes: Uint8Array;
  readonly handover?: SnapshotHandover;
}): Promise<AdoptedSnapshot> {
  const handover = read.handover;
  let busyMs = 0;
  let slices = 0;
  let longestSliceMs = 0;
  let sliceStart = performance.now();
  const endSlice = () => {
    const ms = performance.now() - sliceStart;
    busyMs += ms;
    slices++;
    longestSliceMs = Math.max(longestSliceMs, ms);
  };
  const round = (ms: number) => Number(ms.toFixed(2));
  if (!handover) {
    const decoded = decodeSnapshot(read.bytes);
    endSlice();
    return { decoded, busyMs: round(busyMs), slices, longestSliceMs: round(longestSliceMs) };
  }
  if ('corrupt' in handover) throw cgError('CG_ERR_SNAPSHOT_CORRUPT', handover.corrupt);
  const { text, ends } = handover;
  // Pushed one by one: a packed array, as JSON.parse makes, for the lookups that index it.
  const strings: string[] = [];
  for (let i = 0, start = 0; i < ends.length; i++) {
    strings.push(text.slice(start, ends[i]));
    start = ends[i];
    if ((i & 1023) === 1023 && performance.now() - sliceStart >= SLICE_MS) {
      endSlice();
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  const decoded = snapshotFromHeader(read.bytes, { ...handover.header, strings }, { check: false });
  endSlice();
  return { decoded, busyMs: round(busyMs), slices, longestSliceMs: round(longestSliceMs) };
}
