import { Writable } from 'node:stream';
import { configure, ZipWriter } from '@zip.js/zip.js';
import { cgError } from '../domain/errors.js';
import type { Rule } from '../domain/rule.js';
import { patternFixed } from '../store/keys.js';
import { csvLine, csvRows } from './csv-writer.js';
import { EXPORT_LIMIT, EXPORT_PART_RECORDS, type ExportFilter } from './export-params.js';
import { EXPORT_COLUMNS } from './rules-csv.js';

export { EXPORT_COLUMNS };

// Workers would copy every chunk to another thread; the export already runs on a worker node.
configure({ useWebWorkers: false });

/**
 * An instant as ISO text, the last one remembered: rules written together (an import's batch, a bulk
 * API write) share their instants, and toISOString costs more than the rest of the row's cells.
 */
function lastIso(): (ms: number | undefined) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms === undefined) return '';
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}
const updatedIso = lastIso();
const expiresIso = lastIso();

export function exportCells(r: Rule): string[] {
  return [
    String(r.id),
    r.called ?? '',
    r.calling ?? '',
    r.direction,
    r.action,
    r.groupId ?? '',
    r.typeId ?? '',
    r.ou ?? '',
    r.sbc ?? '',
    r.provider ?? '',
    r.customerGroup ?? '',
    r.user ?? '',
    r.callingCountry ?? '',
    '',
    '',
    r.remarks ?? '',
    updatedIso(r.updatedAt),
    expiresIso(r.expiresAt),
  ];
}

export function matchesFilter(r: Rule, f: ExportFilter): boolean {
  if (f.ou !== undefined && r.ou !== f.ou) return false;
  if (f.groupId !== undefined && r.groupId !== f.groupId) return false;
  if (f.typeId !== undefined && r.typeId !== f.typeId) return false;
  if (f.direction !== undefined && r.direction !== f.direction) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.numberPrefix !== undefined) {
    const p = f.numberPrefix;
    const hit =
      (r.called !== undefined && patternFixed(r.called).startsWith(p)) ||
      (r.calling !== undefined && patternFixed(r.calling).startsWith(p));
    if (!hit) return false;
  }
  return true;
}

const ROWS_PER_CHUNK = 2000;

/**
 * Writes the selected rules as CSV files of at most `partRecords` records into one WinZip AES-256
 * encrypted zip, streamed: rows are turned into text a chunk at a time as the zip writer pulls them,
 * so memory does not grow with the export. More than `limit` records: the writing stops, the rest is
 * only counted, and the export is refused with the count.
 */
export async function writeEncryptedExport(
  rules: AsyncIterable<Rule[]>,
  filter: ExportFilter,
  password: string,
  out: Writable,
  options: { partRecords?: number; limit?: number; onProgress?: (records: number) => void } = {},
): Promise<{ records: number; files: number }> {
  const partRecords = options.partRecords ?? EXPORT_PART_RECORDS;
  const limit = options.limit ?? EXPORT_LIMIT;
  const source = rules[Symbol.asyncIterator]();
  let buffer: Rule[] = [];
  let at = 0;
  let done = false;
  const next = async (): Promise<Rule | undefined> => {
    for (;;) {
      if (at < buffer.length) return buffer[at++];
      if (done) return undefined;
      const r = await source.next();
      if (r.done) {
        done = true;
        return undefined;
      }
      buffer = r.value.filter((x) => matchesFilter(x, filter));
      at = 0;
    }
  };
  const zip = new ZipWriter(Writable.toWeb(out), {
    password,
    encryptionStrength: 3,
    zip64: true,
    level: 6,
  });
  const encoder = new TextEncoder();
  const header = csvLine(EXPORT_COLUMNS as unknown as string[]);
  let records = 0;
  let files = 0;
  let pending = await next();
  do {
    files++;
    let inPart = 0;
    let headerSent = false;
    const part = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const rows: string[][] = [];
        for (let n = 0; n < ROWS_PER_CHUNK && pending !== undefined && inPart < partRecords; n++) {
          if (records >= limit) break;
          rows.push(exportCells(pending));
          inPart++;
          records++;
          // Rules at hand are taken without an await (a promise per row costs more than the row).
          pending = at < buffer.length ? buffer[at++] : await next();
        }
        // One csv-stringify call a chunk: its set-up costs more than a row.
        const text = (headerSent ? '' : header) + (rows.length > 0 ? csvRows(rows) : '');
        headerSent = true;
        if (text !== '') controller.enqueue(encoder.encode(text));
        if (pending === undefined || inPart >= partRecords || records >= limit) controller.close();
        options.onProgress?.(records);
      },
    });
    await zip.add(`rules-${String(files).padStart(3, '0')}.csv`, part);
  } while (pending !== undefined && records < limit);
  if (pending !== undefined) {
    let total = records;
    while ((await next()) !== undefined) total++;
    total++;
    await zip.close().catch(() => undefined);
    throw cgError(
      'CG_ERR_LIMIT_EXCEEDED',
      `the filter selects ${total.toLocaleString('en')} rules; an export holds at most ${limit.toLocaleString('en')}. Narrow the filter (OU, group, type, direction, action or a number prefix) and export in parts.`,
      { limit, selected: total },
    );
  }
  await zip.close();
  return { records, files };
}
