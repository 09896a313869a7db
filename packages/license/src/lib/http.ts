/** Small HTTP helpers shared by the client and server sides of DPoP. */
import { LicenseError } from './errors.js';

/**
 * The `htu` form of a request URL (RFC 9449 §4.3): scheme, host and path, without query and
 * fragment; scheme and host lower-case, default ports removed (as `URL` normalises them).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { htu } from '@fluxel/license/client';
 *
 * assert.equal(htu('HTTPS://Relay.Example:443/v1/orders?page=2#top'), 'https://relay.example/v1/orders');
 * ```
 */
export function htu(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', 'not an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', 'DPoP is for http(s) URLs');
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * Headers as Fetch `Headers` or as Node's incoming-header record.
 *
 * @example
 * ```ts
 * import { type HeadersLike, headerValue } from '@fluxel/license/server';
 *
 * const fetchHeaders: HeadersLike = new Headers({ dpop: 'eyJhbGciOiJFUzI1NiJ9' }); // a Fetch Request's headers
 * const nodeHeaders: HeadersLike = { dpop: 'eyJhbGciOiJFUzI1NiJ9' }; // node:http's req.headers
 * console.log(headerValue(fetchHeaders, 'DPoP').value === headerValue(nodeHeaders, 'DPoP').value);
 * ```
 */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One header value. A header that occurs more than once yields `undefined` plus `multiple`,
 * because RFC 9449 forbids more than one DPoP header.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { headerValue } from '@fluxel/license/server';
 *
 * assert.deepEqual(headerValue({ dpop: 'eyJhbGciOiJFUzI1NiJ9' }, 'DPoP'), { value: 'eyJhbGciOiJFUzI1NiJ9' });
 * assert.deepEqual(headerValue({ dpop: ['a', 'b'] }, 'DPoP'), { multiple: true });
 * assert.deepEqual(headerValue(new Headers(), 'DPoP'), {});
 * ```
 */
export function headerValue(
  headers: HeadersLike,
  name: string,
): { value?: string; multiple?: true } {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get(name);
    if (value === null) return {};
    // Fetch joins repeated headers with ", "; a DPoP proof or token never contains one.
    return value.includes(', ') ? { multiple: true } : { value };
  }
  const raw = (headers as Record<string, string | readonly string[] | undefined>)[
    name.toLowerCase()
  ];
  if (raw === undefined) return {};
  if (typeof raw === 'string') return { value: raw };
  return raw.length === 1 ? { value: raw[0] as string } : { multiple: true };
}
