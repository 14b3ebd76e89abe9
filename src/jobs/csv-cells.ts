/**
 * Neutralises a cell a spreadsheet would run as a formula (OWASP CSV injection): a value starting with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text.
 */
export function neutraliseCell(value: string): string {
  if (value === '') return value;
  const c = value.charCodeAt(0);
  // = + - @ \t \r
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) return `'${value}`;
  return value;
}

/** One CSV line (RFC 4180 quoting), cells neutralised. */
export function csvLine(cells: readonly string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const v = neutraliseCell(cells[i]!);
    if (i > 0) line += ',';
    line += /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }
  return `${line}\r\n`;
}
