import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * `ESL_ALLOW_FROM`: comma-separated CIDRs (a bare address means that one host). Throws with the
 * entry that is not one, for the configuration check.
 */
export function parseCidrList(text: string): Range[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('at least one CIDR such as 127.0.0.1/32 is needed');
  return entries.map((entry) => {
    try {
      if (entry.includes('/')) return ipaddr.parseCIDR(entry);
      const addr = ipaddr.parse(entry);
      return [addr, addr.kind() === 'ipv4' ? 32 : 128] as Range;
    } catch {
      throw new Error(`"${entry}" is not an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8`);
    }
  });
}

/**
 * Who may hand calls to the outbound listener. Peers are compared as they really are: an IPv4
 * peer on a dual-stack socket (::ffff:127.0.0.1) counts as 127.0.0.1, so an IPv4 range matches it.
 */
export class PeerAllowlist {
  private readonly ranges: Range[];

  constructor(cidrs: string) {
    this.ranges = parseCidrList(cidrs);
  }

  allows(address: string | undefined): boolean {
    if (!address || !ipaddr.isValid(address)) return false;
    const peer = ipaddr.process(address);
    for (const [range, bits] of this.ranges) {
      if (range.kind() === peer.kind() && peer.match(range, bits)) return true;
    }
    return false;
  }
}
