/**
 * Configuration of the certificates feature and the strict check of the public server address.
 *
 * Until the portal's options carry it, the configuration comes from the environment, read when
 * it is needed (so a test can set it after the portal started):
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `PORTAL_ACME_DIRECTORY` | — | a custom ACME directory URL (Pebble in tests); offered as `custom` |
 * | `PORTAL_ACME_CA` | system store | PEM (or a file) to trust for the ACME directory's HTTPS |
 * | `PORTAL_HTTP01_PORT` | `80` | the port the HTTP-01 listener opens (port 80 forwarded to it) |
 * | `PORTAL_HTTP01_HOST` | all interfaces | the address it binds |
 * | `PORTAL_EVALUATE_PORT` | `443` | the HTTPS port `evaluate` connects to |
 * | `PORTAL_EVALUATE_HOST` | the address | connect here instead of resolving the address |
 * | `PORTAL_EVALUATE_CA` | system store | PEM (or a file) `evaluate` trusts (Pebble's root in tests) |
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING } from '@fluxel/acme-lite';
import type { AcmeDirectoryChoice, DirectoryOption } from './contract.ts';

export interface CertificatesConfig {
  readonly directories: Readonly<Partial<Record<AcmeDirectoryChoice, string>>>;
  /** The choice used until an administrator picks one. */
  readonly defaultDirectory: AcmeDirectoryChoice;
  readonly acmeCa?: string;
  readonly http01Port: number;
  readonly http01Host?: string;
  readonly evaluatePort: number;
  readonly evaluateHost?: string;
  readonly evaluateCa?: string;
}

/** PEM text as given, or the contents of the file it names. */
function pem(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.includes('-----BEGIN')) return value;
  return readFileSync(value, 'utf8');
}

function port(value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`not a port: ${value}`);
  return n;
}

export function certificatesConfig(env: NodeJS.ProcessEnv = process.env): CertificatesConfig {
  const custom = env.PORTAL_ACME_DIRECTORY;
  if (custom && new URL(custom).protocol !== 'https:')
    throw new Error('PORTAL_ACME_DIRECTORY must be an https URL');
  const acmeCa = pem(env.PORTAL_ACME_CA);
  const evaluateCa = pem(env.PORTAL_EVALUATE_CA);
  return {
    directories: {
      production: LETS_ENCRYPT_PRODUCTION,
      staging: LETS_ENCRYPT_STAGING,
      ...(custom ? { custom } : {}),
    },
    defaultDirectory: custom ? 'custom' : 'staging',
    ...(acmeCa ? { acmeCa } : {}),
    http01Port: port(env.PORTAL_HTTP01_PORT, 80),
    ...(env.PORTAL_HTTP01_HOST ? { http01Host: env.PORTAL_HTTP01_HOST } : {}),
    evaluatePort: port(env.PORTAL_EVALUATE_PORT, 443),
    ...(env.PORTAL_EVALUATE_HOST ? { evaluateHost: env.PORTAL_EVALUATE_HOST } : {}),
    ...(evaluateCa ? { evaluateCa } : {}),
  };
}

export function directoryOptions(config: CertificatesConfig): DirectoryOption[] {
  return (['production', 'staging', 'custom'] as const).flatMap((choice) => {
    const url = config.directories[choice];
    return url ? [{ choice, url }] : [];
  });
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The public server address as a lower-case ASCII DNS name, or a reason why not. Strict: a
 * host name only — no IP address, no scheme, no port, no path, no wildcard, no trailing dot,
 * at least two labels, a top-level label that is not numeric. International names are
 * converted to their `xn--` form.
 */
export function checkAddress(
  input: string,
): { ok: true; name: string } | { ok: false; reason: string } {
  const raw = input.trim();
  if (raw === '') return { ok: false, reason: 'empty' };
  if (raw.length > 253) return { ok: false, reason: 'too long' };
  if (raw.includes('://'))
    return { ok: false, reason: 'only the host name, without scheme or port' };
  if (/[/?#@\\\s]/.test(raw)) return { ok: false, reason: 'only the host name, without path' };
  if (raw.includes('*')) return { ok: false, reason: 'wildcards are not possible with HTTP-01' };
  if (raw.includes(':') || raw.startsWith('[')) {
    return isIP(raw.replace(/^\[|\]$/g, ''))
      ? { ok: false, reason: 'an IP address is not enough; a domain name is needed' }
      : { ok: false, reason: 'only the host name, without port' };
  }
  if (isIP(raw))
    return { ok: false, reason: 'an IP address is not enough; a domain name is needed' };
  if (raw.endsWith('.')) return { ok: false, reason: 'no trailing dot' };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters.
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: 'invalid characters' };
  const ascii = /^[\x21-\x7e]+$/.test(raw) ? raw.toLowerCase() : domainToASCII(raw);
  if (!ascii || ascii.length > 253) return { ok: false, reason: 'not a valid domain name' };
  const labels = ascii.split('.');
  if (labels.length < 2)
    return { ok: false, reason: 'a full domain name is needed (e.g. portal.example.com)' };
  if (!labels.every((l) => LABEL.test(l))) return { ok: false, reason: 'not a valid domain name' };
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? ''))
    return { ok: false, reason: 'an IP address is not enough; a domain name is needed' };
  return { ok: true, name: ascii };
}
