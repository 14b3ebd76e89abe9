/**
 * The CSV writer on export rows: `npm run bench -- csv [--rows N]`. CPU time (process.cpuUsage, median
 * of 7) of csvRows() beside the same-run baseline, csv-stringify writing every row with the same
 * settings; both must give the same bytes. One row in ten has a cell that needs quoting (remarks
 * with a comma), one in a hundred a cell that gets the formula mark.
 */
import { stringify } from 'csv-stringify/sync';
import type { Rule } from '../src/domain/rule.js';
import { neutraliseCell } from '../src/jobs/csv-cells.js';
import { csvRows } from '../src/jobs/csv-writer.js';
import { exportCells } from '../src/jobs/export-writer.js';

const CHUNK = 2000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function cpuMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--rows');
  const n = at >= 0 ? Number(args[at + 1]) : 200_000;
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const rule = {
      id: i + 1,
      called: String(14045260000 + i),
      direction: 'outbound',
      action: 'block',
      ou: 'sales',
      groupId: 'dnc',
      updatedAt: 1_733_300_000_000,
      remarks: i % 100 === 0 ? '=cmd|calc' : i % 10 === 0 ? 'asked twice, then blocked' : undefined,
    } as unknown as Rule;
    rows.push(exportCells(rule));
  }
  const settings = {
    cast: { string: neutraliseCell },
    record_delimiter: '\r\n',
    quote_record_delimiter: true,
  };
  const chunks = (write: (rs: string[][]) => string) => {
    let bytes = 0;
    for (let i = 0; i < rows.length; i += CHUNK) bytes += write(rows.slice(i, i + CHUNK)).length;
    return bytes;
  };
  const same = csvRows(rows.slice(0, 20_000)) === stringify(rows.slice(0, 20_000), settings);
  const writer: number[] = [];
  const baseline: number[] = [];
  for (let k = 0; k < 7; k++) {
    writer.push(cpuMs(() => chunks(csvRows)));
    baseline.push(cpuMs(() => chunks((rs) => stringify(rs, settings))));
  }
  const ratio = median(writer) / median(baseline);
  console.log(
    JSON.stringify({
      bench: 'csv-writer',
      rows: n,
      writerCpuMs: Number(median(writer).toFixed(1)),
      baseline: 'csv-stringify for every row, same settings',
      baselineCpuMs: Number(median(baseline).toFixed(1)),
      ratio: Number(ratio.toFixed(2)),
      sameBytes: same,
      bar: 'same bytes as csv-stringify, CPU ≤ 0.5x it',
      pass: same && ratio <= 0.5,
      loadavg: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(1))),
    }),
  );
}
