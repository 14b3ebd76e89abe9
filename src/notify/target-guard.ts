import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { cgError } from '../domain/errors.js';

/**
 * Webhook URLs are set by tenant administrators, so a delivery must not become a way to reach the
 * call node's own network (SSRF). An allowlist, not a list of bad ranges: only global unicast
 * addresses (ipaddr.js range "unicast") are reachable unless the operator allows private targets;
 * loopback, link-local (cloud metadata at 169.254.169.254), private, shared, multicast, reserved,
 * documentation and transition ranges are all refused, including a range added to the registries later.
 */
function isGlobalUnicast(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) return embedded.range() === 'unicast';
  return v6.range() === 'unicast';
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  const zero96 = p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0;
  const mapped = zero96 && p[5] === 0xffff;
  const compatible = zero96 && p[5] === 0 && (p[6] !== 0 || p[7]! > 1);
  const nat64 = p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0;
  if (!mapped && !compatible && !nat64) return undefined;
  return new ipaddr.IPv4([p[6]! >> 8, p[6]! & 255, p[7]! >> 8, p[7]! & 255]);
}

/** True for an address a webhook may not reach without allowPrivateTargets: anything not global unicast. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  try {
    return !isGlobalUnicast(ipaddr.parse(address));
  } catch {
    return true;
  }
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
