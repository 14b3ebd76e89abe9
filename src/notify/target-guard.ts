import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { cgError } from '../domain/errors.js';

/**
 * Webhook URLs are set by tenant administrators, so a delivery must not become a way to reach the
 * call node's own network (SSRF): loopback, link-local (cloud metadata at 169.254.169.254), private,
 * shared, multicast and reserved addresses are refused unless the tenant allows private targets.
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** IPv4 carried in an IPv6 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16), else undefined. */
function embeddedIPv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) return hexPairToIPv4(hex[1]!, hex[2]!);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  if (sixToFour) return hexPairToIPv4(sixToFour[1]!, sixToFour[2]!);
  return undefined;
}

function hexPairToIPv4(hi: string, lo: string): string {
  const a = Number.parseInt(hi, 16);
  const b = Number.parseInt(lo, 16);
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

/** True for an address a webhook may not reach without allowPrivateTargets. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIPv4(address);
    if (v4 !== undefined) return blocked.check(v4, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

/** Only http(s), no credentials in the URL. Throws CG_ERR_INPUT_INVALID. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw cgError('CG_ERR_INPUT_INVALID', `webhook URL "${raw}" is not a URL; use http:// or https://`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw cgError(
      'CG_ERR_INPUT_INVALID',
      `webhook URL scheme ${url.protocol} is refused; use http:// or https://`,
    );
  }
  if (url.username || url.password) {
    throw cgError(
      'CG_ERR_INPUT_INVALID',
      'webhook URL must not carry credentials; the signature authenticates',
    );
  }
  return url;
}

export class TargetRefusedError extends Error {
  override name = 'TargetRefusedError';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net.connect that resolves every address of the host and refuses the connection when
 * any of them is private. Checking at connect time (not only before) closes the DNS-rebinding gap.
 */
export function guardedLookup(
  hostname: string,
  options: { all?: boolean; family?: number } | number | undefined,
  callback: LookupCallback,
): void {
  const all = typeof options === 'object' && options !== null && options.all === true;
  dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
    if (err) return callback(err, all ? [] : '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) {
      return callback(
        new TargetRefusedError(
          `${hostname} resolves to ${bad.address}, a loopback/link-local/private address`,
        ),
        all ? [] : '',
        0,
      );
    }
    if (all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(new TargetRefusedError(`${hostname} has no address`), '', 0);
    callback(null, first.address, first.family);
  });
}

/** Resolves the URL's host and throws TargetRefusedError when any address is private (literal IPs included). */
export async function assertPublicTarget(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) {
    if (isPrivateAddress(host))
      throw new TargetRefusedError(`${host} is a loopback/link-local/private address`);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    guardedLookup(host, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}
