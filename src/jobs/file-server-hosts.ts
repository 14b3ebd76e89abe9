import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { cgError } from '../domain/errors.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

const normalise = (a: ipaddr.IPv4 | ipaddr.IPv6) =>
  a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;

/**
 * Where tenants' file servers may be: the operator's allowlist CALLGUARD_FILE_SERVER_HOSTS (host names,
 * IP addresses and CIDRs, comma-separated; unset: anywhere). A file server's host is checked when it
 * is registered and again at every connect, after DNS resolution, and the connection goes to the
 * address that was checked: a name that later resolves elsewhere (DNS rebinding) is refused. Without
 * it, a tenant could point a "file server" at any host and port the worker reaches and read in the
 * job errors which ports are open.
 */
export class FileServerHostPolicy {
  private constructor(
    private readonly names: ReadonlySet<string> | undefined,
    private readonly ranges: readonly Range[],
  ) {}

  static readonly ANY = new FileServerHostPolicy(undefined, []);

  /** From the setting's text; throws naming the entry that is neither a host name, an address nor a CIDR. */
  static parse(text: string | undefined): FileServerHostPolicy {
    const entries = (text ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean);
    if (entries.length === 0) return FileServerHostPolicy.ANY;
    const names = new Set<string>();
    const ranges: Range[] = [];
    for (const e of entries) {
      if (e.includes('/')) {
        try {
          const [addr, bits] = ipaddr.parseCIDR(e);
          ranges.push([normalise(addr), addr.kind() === normalise(addr).kind() ? bits : bits - 96]);
        } catch {
          throw new Error(`CALLGUARD_FILE_SERVER_HOSTS: "${e}" is not a CIDR such as 10.20.0.0/16`);
        }
      } else if (isIP(e)) {
        const a = normalise(ipaddr.parse(e));
        ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      } else if (/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(e)) {
        names.add(e);
      } else {
        throw new Error(
          `CALLGUARD_FILE_SERVER_HOSTS: "${e}" is not a host name, an IP address or a CIDR (comma-separated list)`,
        );
      }
    }
    return new FileServerHostPolicy(names, ranges);
  }

  get allowsAny(): boolean {
    return this.names === undefined;
  }

  private addressAllowed(address: string): boolean {
    const a = normalise(ipaddr.parse(address));
    return this.ranges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));
  }

  /**
   * The address to connect to for `host`, checked: a listed name is trusted as such, otherwise every
   * address the host resolves to must be in a listed range. Throws CG_ERR_FORBIDDEN naming the host.
   */
  async resolve(host: string): Promise<string> {
    const name = host.toLowerCase();
    const addresses = isIP(name)
      ? [name]
      : (
          await lookup(name, { all: true, verbatim: true }).catch((error: Error) => {
            throw cgError(
              'CG_ERR_UNAVAILABLE',
              `file server host ${host} cannot be resolved: ${error.message}`,
              {
                host,
              },
            );
          })
        ).map((a) => a.address);
    if (this.names === undefined || this.names.has(name)) return addresses[0] ?? host;
    const refused = addresses.find((a) => !this.addressAllowed(a));
    if (refused !== undefined || addresses.length === 0) {
      throw cgError(
        'CG_ERR_FORBIDDEN',
        `file server host ${host}${refused !== undefined && refused !== name ? ` (${refused})` : ''} is not one the operator allows (CALLGUARD_FILE_SERVER_HOSTS); ask the operator to add it`,
        { host },
      );
    }
    return addresses[0]!;
  }
}
