/**
 * IP address literals, as ECS `source.ip` (Elasticsearch type `ip`) takes them: dotted-quad
 * IPv4 or RFC 4291 IPv6 text. Web platform only (no `node:net`, no URL parser).
 */

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** The longest IPv6 text accepted (`ffff:…:255.255.255.255` is 45 characters). */
export const MAX_IP_LENGTH = 45;

const COLON = 0x3a;
const DOT = 0x2e;

/** The value of a hex digit, or -1. */
function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const digit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * True for IPv6 address text as the WHATWG URL host parser reads it between brackets: up to
 * eight groups of 1–4 hex digits, at most one `::`, optionally ending in a dotted quad
 * (decimal, no leading zeros) in place of the last two groups. Nothing else (no zone id, no
 * brackets, no whitespace).
 */
function isIpv6(s: string): boolean {
  const end = s.length;
  let at = 0;
  let pieces = 0;
  let compressed = false;
  if (s.charCodeAt(0) === COLON) {
    if (s.charCodeAt(1) !== COLON) return false;
    at = 2;
    pieces = 1;
    compressed = true;
  }
  while (at < end) {
    if (pieces === 8) return false;
    if (s.charCodeAt(at) === COLON) {
      if (compressed) return false;
      at++;
      pieces++;
      compressed = true;
      continue;
    }
    let length = 0;
    while (length < 4 && at < end && hex(s.charCodeAt(at)) >= 0) {
      at++;
      length++;
    }
    const c = s.charCodeAt(at);
    if (c === DOT) {
      // A dotted quad in place of the last two groups: re-read this group as decimal.
      if (length === 0 || pieces > 6) return false;
      return dottedQuadAt(s, at - length) && (compressed || pieces === 6);
    }
    if (at < end) {
      if (c !== COLON) return false;
      at++;
      if (at === end) return false;
    }
    if (length === 0) return false;
    pieces++;
  }
  return compressed || pieces === 8;
}

/** Exactly four decimal numbers 0–255 without leading zeros, separated by dots, to the end. */
function dottedQuadAt(s: string, from: number): boolean {
  let at = from;
  for (let n = 0; n < 4; n++) {
    if (n > 0) {
      if (s.charCodeAt(at) !== DOT) return false;
      at++;
    }
    if (!digit(s.charCodeAt(at))) return false;
    let value = s.charCodeAt(at) - 0x30;
    at++;
    while (digit(s.charCodeAt(at))) {
      if (value === 0) return false;
      value = value * 10 + s.charCodeAt(at) - 0x30;
      if (value > 255) return false;
      at++;
    }
  }
  return at === s.length;
}

/**
 * True for one IPv4 or IPv6 address literal ("unknown" or a forwarded-for list are not).
 * IPv4 is a dotted quad without leading zeros; IPv6 as the URL standard parses it, with
 * IPv4-mapped forms (`::ffff:192.0.2.1`), at most {@link MAX_IP_LENGTH} characters.
 */
export function isIpLiteral(value: string): boolean {
  if (IPV4.test(value)) return true;
  return value.includes(':') && value.length <= MAX_IP_LENGTH && isIpv6(value);
}
