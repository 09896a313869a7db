/**
 * SSRF guard for webhook targets. A target URL must be `https:` (plain `http:` only to a
 * loopback host, and only when loopback targets are allowed — tests and dev). Every address a
 * name resolves to is checked at connect time (a custom `lookup` for the socket), so DNS
 * rebinding between the check and the request cannot reach an internal address.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import type { FieldReason } from '../../shared/api.ts';

export interface TargetPolicy {
  /** Allow loopback targets (127.0.0.0/8, ::1, localhost), also over plain http. Tests/dev only. */
  readonly allowLoopback?: boolean;
  /** Allow every private address (RFC 1918, ULA, link-local…). Dev only. */
  readonly allowPrivate?: boolean;
}

const blocked = new BlockList();
for (const [net, prefix] of [
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
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

function isLoopback(address: string): boolean {
  const v = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v) === 4 ? v.startsWith('127.') : v === '::1';
}

/** Whether `address` may be connected to under `policy`. */
export function addressAllowed(address: string, policy: TargetPolicy): boolean {
  if (policy.allowPrivate) return true;
  // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
  const family = v4 && isIP(v4) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const plain = v4 && isIP(v4) === 4 ? v4 : address;
  if (policy.allowLoopback && isLoopback(plain)) return true;
  return !blocked.check(plain, family);
}

/**
 * The refusals of `checkTargetUrl`: English `reason` (logs, the delivery's error text) and the
 * stable field reason the web app translates (`FIELD_REASONS`).
 */
export const TARGET_REFUSALS = {
  'not a URL': 'invalid_url',
  'no credentials in the URL': 'url_credentials',
  'no fragment': 'url_fragment',
  'https is required': 'https_required',
  'internal address': 'internal_address',
} as const satisfies Readonly<Record<string, FieldReason>>;
export type TargetRefusal = keyof typeof TARGET_REFUSALS;

export type UrlCheck =
  | { ok: true; url: URL }
  | { ok: false; reason: TargetRefusal; code: (typeof TARGET_REFUSALS)[TargetRefusal] };

const refuse = (reason: TargetRefusal): UrlCheck => ({
  ok: false,
  reason,
  code: TARGET_REFUSALS[reason],
});

/** Static checks of a target URL (scheme, credentials, literal addresses). */
export function checkTargetUrl(raw: string, policy: TargetPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not a URL');
  }
  if (url.username || url.password) return refuse('no credentials in the URL');
  if (url.hash) return refuse('no fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackHost = host === 'localhost' || (isIP(host) !== 0 && isLoopback(host));
  if (url.protocol === 'http:') {
    if (!(policy.allowLoopback && loopbackHost)) return refuse('https is required');
  } else if (url.protocol !== 'https:') return refuse('https is required');
  if (host === 'localhost' && !policy.allowLoopback && !policy.allowPrivate)
    return refuse('internal address');
  if (isIP(host) !== 0 && !addressAllowed(host, policy)) return refuse('internal address');
  return { ok: true, url };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for sockets that refuses names resolving to a blocked address. */
export function guardedLookup(policy: TargetPolicy) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, policy));
      if (bad || list.length === 0) {
        const refused = Object.assign(new Error(`refused internal address for ${hostname}`), {
          code: 'ERR_SSRF_BLOCKED',
        });
        return callback(refused, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** An undici dispatcher for webhook deliveries: guarded lookup, short timeouts, no keep-alive pooling. */
export function webhookDispatcher(
  policy: TargetPolicy,
  options: { timeoutMs: number; ca?: string | undefined },
): Agent {
  return new Agent({
    connect: {
      lookup: guardedLookup(policy),
      timeout: options.timeoutMs,
      ...(options.ca ? { ca: options.ca } : {}),
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 1000,
    connections: 4,
  });
}
