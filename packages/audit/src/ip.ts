/**
 * IP address literals, as ECS `source.ip` (Elasticsearch type `ip`) takes them: dotted-quad
 * IPv4 or RFC 4291 IPv6 text. Web platform only (no `node:net`).
 */
import { z } from 'zod';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const IPV6 = z.ipv6();

/** True for an IPv4 or IPv6 address literal ("unknown" or a forwarded-for list are not). */
export function isIpLiteral(value: string): boolean {
  if (IPV4.test(value)) return true;
  return value.includes(':') && value.length <= 45 && IPV6.safeParse(value).success;
}

/** The schema of an event's `actor.ip`: one address literal. */
export const ipLiteralSchema = z
  .string()
  .max(45)
  .refine(isIpLiteral, 'must be one IPv4 or IPv6 address (not "unknown" or a forwarded-for list)');
