/**
 * IP → location resolution for alert rules (new country, impossible travel). Pluggable; the
 * offline default knows only the documentation and private ranges, so nothing is downloaded.
 */
import { AuditError } from './errors.js';
import type { Geo } from './event.js';

/**
 * Resolves an IP address to a location, synchronously (keep lookups in memory).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, type GeoResolver, MemoryStore } from '@fluxel/audit';
 *
 * // Backed by your own GeoIP data in memory; lookups are synchronous.
 * const resolver: GeoResolver = {
 *   lookup: (ip) => (ip.startsWith('192.0.2.') ? { country: 'DE', city: 'Berlin' } : undefined),
 * };
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), geo: resolver });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.equal(store.records[1]?.event?.actor.geo?.country, 'DE');
 * ```
 */
export interface GeoResolver {
  lookup(ip: string): Geo | undefined;
}

/**
 * One range of a {@link cidrGeoResolver} table.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { cidrGeoResolver, type GeoRange } from '@fluxel/audit';
 *
 * const office: GeoRange = { cidr: '198.51.100.0/24', geo: { country: 'US', city: 'New York' } };
 * assert.equal(cidrGeoResolver([office]).lookup('198.51.100.20')?.city, 'New York');
 * ```
 */
export interface GeoRange {
  /** CIDR, IPv4 (`192.0.2.0/24`) or IPv6 (`2001:db8::/32`). */
  readonly cidr: string;
  readonly geo: Geo;
}

function parseIPv4(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIPv6(ip: string): bigint | undefined {
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const value = parseIPv4(v4[1] as string);
    if (value === undefined) return undefined;
    tail = [Number(value >> 16n), Number(value & 0xffffn)];
    text = `${text.slice(0, -(v4[1] as string).length)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? (halves[0] as string).split(':') : [];
  const rest = halves.length === 2 && halves[1] ? (halves[1] as string).split(':') : [];
  const groups =
    halves.length === 2
      ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest]
      : head;
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  if (tail.length === 2)
    value = (value & ~0xffffffffn) | (BigInt(tail[0] as number) << 16n) | BigInt(tail[1] as number);
  return value;
}

/**
 * Parses an IP address into its family and numeric value; undefined when not an IP.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { parseIp } from '@fluxel/audit';
 *
 * assert.deepEqual(parseIp('192.0.2.1'), { family: 4, value: 0xc0000201n });
 * assert.equal(parseIp('2001:db8::1')?.family, 6);
 * assert.equal(parseIp('unknown'), undefined);
 * ```
 */
export function parseIp(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(ip);
  if (v6 === undefined) return undefined;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) resolves as IPv4.
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/**
 * A resolver over a table of CIDR ranges; the most specific match wins.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_ARGUMENT` for a malformed CIDR.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { cidrGeoResolver } from '@fluxel/audit';
 *
 * const resolver = cidrGeoResolver([
 *   { cidr: '203.0.113.0/24', geo: { country: 'AU', city: 'Sydney', lat: -33.87, lon: 151.21 } },
 *   { cidr: '2001:db8::/32', geo: { country: 'FR' } },
 * ]);
 * assert.equal(resolver.lookup('203.0.113.9')?.city, 'Sydney');
 * assert.equal(resolver.lookup('2001:db8::7')?.country, 'FR');
 * assert.equal(resolver.lookup('192.0.2.1'), undefined);
 * ```
 */
export function cidrGeoResolver(ranges: readonly GeoRange[]): GeoResolver {
  const table = ranges.map(({ cidr, geo }) => {
    const [addr, bitsText] = cidr.split('/');
    const parsed = addr ? parseIp(addr) : undefined;
    const width = parsed?.family === 4 ? 32 : 128;
    const bits = bitsText === undefined ? width : Number(bitsText);
    if (!parsed || !Number.isInteger(bits) || bits < 0 || bits > width)
      throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `bad CIDR ${cidr}`);
    const shift = BigInt(width - bits);
    return { family: parsed.family, shift, prefix: parsed.value >> shift, bits, geo };
  });
  table.sort((a, b) => b.bits - a.bits);
  return {
    lookup(ip) {
      const parsed = parseIp(ip);
      if (!parsed) return undefined;
      for (const range of table)
        if (range.family === parsed.family && parsed.value >> range.shift === range.prefix)
          return range.geo;
      return undefined;
    },
  };
}

/**
 * The offline default: the documentation ranges (RFC 5737, RFC 3849) mapped to fixed
 * places so tests and demos can show travel, and private/loopback ranges mapped to a
 * location-less "private" entry (`country` absent). Real deployments plug in a resolver
 * over their own GeoIP data.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { offlineGeoResolver } from '@fluxel/audit';
 *
 * assert.equal(offlineGeoResolver.lookup('192.0.2.10')?.city, 'Berlin');
 * assert.equal(offlineGeoResolver.lookup('10.1.2.3')?.country, undefined); // private: no country
 * ```
 */
export const offlineGeoResolver: GeoResolver = cidrGeoResolver([
  { cidr: '192.0.2.0/24', geo: { country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.405 } },
  { cidr: '198.51.100.0/24', geo: { country: 'US', city: 'New York', lat: 40.7128, lon: -74.006 } },
  { cidr: '203.0.113.0/24', geo: { country: 'AU', city: 'Sydney', lat: -33.8688, lon: 151.2093 } },
  { cidr: '2001:db8::/33', geo: { country: 'FR', city: 'Paris', lat: 48.8566, lon: 2.3522 } },
  {
    cidr: '2001:db8:8000::/33',
    geo: { country: 'JP', city: 'Tokyo', lat: 35.6762, lon: 139.6503 },
  },
  { cidr: '10.0.0.0/8', geo: { city: 'private' } },
  { cidr: '172.16.0.0/12', geo: { city: 'private' } },
  { cidr: '192.168.0.0/16', geo: { city: 'private' } },
  { cidr: '127.0.0.0/8', geo: { city: 'loopback' } },
  { cidr: '::1/128', geo: { city: 'loopback' } },
  { cidr: 'fc00::/7', geo: { city: 'private' } },
]);

/**
 * Great-circle distance in km between two points (haversine, mean Earth radius).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { distanceKm } from '@fluxel/audit';
 *
 * const km = distanceKm({ lat: 52.52, lon: 13.405 }, { lat: 40.7128, lon: -74.006 }); // Berlin → New York
 * assert.ok(km > 6_300 && km < 6_400);
 * ```
 */
export function distanceKm(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}
