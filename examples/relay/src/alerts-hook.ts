/**
 * The relay's alerts to the portal's inbox: `RELAY_ALERTS_URL` + `RELAY_ALERTS_SECRET` of the
 * start script become a signed `@fluxel/audit` `webhookHook` (HMAC-SHA-256 over timestamp and
 * body, the format the portal's `POST /internal/relay/v1/alerts` checks).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import { type AlertHook, webhookHook } from '@fluxel/audit';
import { Agent, fetch as undiciFetch } from 'undici';

/** The shortest secret the hook signs with (as `webhookHook` and the portal require). */
export const ALERTS_SECRET_MIN_BYTES = 16;

export interface AlertsTarget {
  readonly url: string;
  readonly secret: string;
  /** A PEM CA trusted for the portal besides the system's; absent: the relay's own dev CA. */
  readonly ca?: string;
}

/**
 * The alert target of the environment's three values, or undefined when neither URL nor secret
 * is set. Throws (naming the variable, never the secret) for one without the other, a URL that
 * is not https, a short secret or an unreadable CA file.
 */
export function alertsTarget(
  url: string | undefined,
  secret: string | undefined,
  caFile?: string,
): AlertsTarget | undefined {
  if (!url && !secret) return undefined;
  if (!url || !secret)
    throw new Error(
      `RELAY_ALERTS_URL and RELAY_ALERTS_SECRET go together (${url ? 'RELAY_ALERTS_SECRET' : 'RELAY_ALERTS_URL'} is missing)`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('RELAY_ALERTS_URL is not a URL');
  }
  if (parsed.protocol !== 'https:') throw new Error('RELAY_ALERTS_URL must be an https URL');
  if (Buffer.byteLength(secret) < ALERTS_SECRET_MIN_BYTES)
    throw new Error(`RELAY_ALERTS_SECRET needs at least ${ALERTS_SECRET_MIN_BYTES} bytes`);
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(resolve(caFile), 'utf8');
    } catch {
      throw new Error(`RELAY_ALERTS_CA=${caFile} is not readable`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`RELAY_ALERTS_CA=${caFile} is not a PEM certificate`);
  }
  return { url: parsed.href, secret, ...(ca ? { ca } : {}) };
}

/**
 * The hook posting each alert to the target. `devCa` is asked at the first alert (the relay's
 * own CA exists only once it started); TLS is verified against the system's CAs plus that one.
 */
export function portalAlertHook(target: AlertsTarget, devCa: () => string): AlertHook {
  let dispatcher: Agent | undefined;
  const post = (input: string | URL | Request, init?: RequestInit) => {
    dispatcher ??= new Agent({
      connect: { ca: [...rootCertificates, target.ca ?? devCa()].filter(Boolean) },
    });
    return undiciFetch(String(input), {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>;
  };
  return webhookHook({ url: target.url, secret: target.secret, fetch: post as typeof fetch });
}
