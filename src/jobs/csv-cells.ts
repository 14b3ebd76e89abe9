/** = + - @ \t \r (what a spreadsheet may run as a formula) and ' itself (so that the mark can be undone). */
function isGuarded(c: number): boolean {
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 || c === 39;
}

/**
 * Neutralises a cell a spreadsheet would run as a formula (OWASP CSV injection): a value starting with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text.
 * A value that starts with `'` gets one too, so that restoreCell() can tell the mark from the text.
 */
export function neutraliseCell(value: string): string {
  if (value === '') return value;
  return isGuarded(value.charCodeAt(0)) ? `'${value}` : value;
}

/**
 * Undoes neutraliseCell(): a leading `'` followed by one of `= + - @ ' \t \r` is the mark and is
 * dropped; any other `'` is the text's own (a hand-written `'hello` stays `'hello`).
 */
export function restoreCell(value: string): string {
  return value.length >= 2 && value.charCodeAt(0) === 39 && isGuarded(value.charCodeAt(1))
    ? value.slice(1)
    : value;
}
