import type { Readable } from 'node:stream';
import { nameSchema } from '../domain/rule.js';
import { csvRecords } from './csv-records.js';
import { CsvHeaderError, type RowError } from './rules-csv.js';

/** Reads a `task,group` file into task → groups; bad rows are returned with their line numbers. */
export async function readBindingsCsv(
  input: Readable,
): Promise<{ bindings: Map<string, string[]>; errors: RowError[] }> {
  const records = csvRecords(input, (header) => {
    if (!header.includes('task') || !header.includes('group')) {
      throw new CsvHeaderError('a bindings file has the header task,group');
    }
  });
  const bindings = new Map<string, string[]>();
  const errors: RowError[] = [];
  for await (const batch of records)
    for (const { record, info } of batch) {
      const task = nameSchema.safeParse(record.task ?? '');
      const group = nameSchema.safeParse(record.group ?? '');
      if (!task.success)
        errors.push({ line: info.lines, column: 'task', reason: task.error.issues[0].message });
      else if (!group.success)
        errors.push({ line: info.lines, column: 'group', reason: group.error.issues[0].message });
      else bindings.set(task.data, [...(bindings.get(task.data) ?? []), group.data]);
    }
  return { bindings, errors };
}
