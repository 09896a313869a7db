/**
 * Which proxies a server believes about the client's address. Behind an edge proxy every
 * connection comes from the proxy; the client's own address is in `X-Forwarded-For`, which
 * anyone can send. So it is believed only from the listed addresses (Fastify `trustProxy`
 * with a list: `req.ip` is then the first address, from the right, that is not a trusted
 * proxy). Nothing is trusted by default: without a list `X-Forwarded-For` is ignored.
 */
import { isIP } from 'node:net';

/** The names `proxy-addr` (Fastify's) understands besides addresses and CIDR ranges. */
const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** A trusted-proxy entry that is neither an address, a CIDR range nor one of the names. */
export class TrustedProxiesError extends Error {
  constructor(entry: string, setting: string) {
    super(
      `${setting}: "${entry}" is not an IP address, a CIDR range (e.g. 10.0.1.0/24) or one of loopback, linklocal, uniquelocal`,
    );
    this.name = 'TrustedProxiesError';
  }
}

function validEntry(entry: string): boolean {
  if (NAMED.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * The checked list for Fastify's `trustProxy`, or `false` (trust nobody) for an empty one.
 * `value` is a list or a comma-separated string (an environment variable); `setting` names
 * it in the error.
 */
export function trustedProxies(
  value: string | readonly string[] | undefined,
  setting = 'trustedProxies',
): string[] | false {
  const entries = (typeof value === 'string' ? value.split(',') : (value ?? []))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries)
    if (!validEntry(entry)) throw new TrustedProxiesError(entry, setting);
  return entries.length > 0 ? entries : false;
}
