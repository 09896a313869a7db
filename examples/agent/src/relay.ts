/** The relay connection: CA-pinned HTTPS client, device signer, and a TLS probe for `status`. */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { connect, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import {
  checkDeviceDescription,
  createDpopSigner,
  type DeviceDescription,
  type DpopSigner,
  type PrivateJwk,
} from '@fluxel/license';
import {
  createRelayClient,
  type NodeRelayClient,
  spkiPin,
  type TokenStore,
} from '@fluxel/relay-client/node';
import { AgentError } from './errors.ts';

export interface TrustOptions {
  readonly caPath?: string | undefined;
  readonly pins: readonly string[];
}

export function readCa(caPath: string | undefined): string | undefined {
  if (!caPath) return undefined;
  try {
    return readFileSync(caPath, 'utf8');
  } catch (error) {
    throw new AgentError('ERR_AGENT_CA', `cannot read the relay CA ${caPath}`, 1, {
      cause: error,
    });
  }
}

/** Pins in use: the given ones, plus the CA's own key when a CA file is given. */
export function effectivePins(trust: TrustOptions, ca: string | undefined): string[] {
  const pins = trust.pins.map((p) => p.replace(/^sha256\//, ''));
  if (ca) {
    const own = spkiPin(ca);
    if (!pins.includes(own)) pins.push(own);
  }
  return pins;
}

export function checkRelayUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentError('ERR_AGENT_USAGE', `--relay: not a URL: ${url}`, 2);
  }
  if (parsed.protocol !== 'https:')
    throw new AgentError(
      'ERR_AGENT_USAGE',
      '--relay must be an https:// URL (the relay is always reached over verified TLS)',
      2,
    );
  return parsed;
}

/** This agent's version (its package's), reported to the relay and shown to the license's owner. */
export const AGENT_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * What the agent tells the relay about this machine at activation and token refresh: the host
 * name (left out when the OS reports one the license service would not accept, rather than
 * not starting) and the agent version.
 */
export function deviceDescription(host: string = hostname()): DeviceDescription {
  const agentVersion = checkDeviceDescription({ agentVersion: AGENT_VERSION });
  try {
    return { ...checkDeviceDescription({ hostName: host }), ...agentVersion };
  } catch {
    return agentVersion;
  }
}

export function openClient(options: {
  relayUrl: string;
  trust: TrustOptions;
  privateJwk: PrivateJwk;
  tokens: TokenStore;
  env: Readonly<Record<string, string | undefined>>;
}): { client: NodeRelayClient; device: DpopSigner } {
  const ca = readCa(options.trust.caPath);
  const device = createDpopSigner(options.privateJwk, { device: deviceDescription() });
  const client = createRelayClient({
    baseUrl: options.relayUrl.replace(/\/+$/, ''),
    device,
    tokens: options.tokens,
    ...(ca ? { ca } : {}),
    pins: effectivePins(options.trust, ca),
    env: options.env,
    userAgent: `fluxel-agent/${AGENT_VERSION}`,
    // A longer Retry-After (the third party is down) is the outbox's job, not a blocked call.
    retry: { maxRetryAfterMs: 5000 },
  });
  return { client, device };
}

export interface TlsReport {
  readonly reachable: boolean;
  readonly authorized?: boolean;
  readonly protocol?: string | null;
  readonly cipher?: string;
  readonly subject?: string | undefined;
  readonly issuer?: string | undefined;
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly fingerprint256?: string;
  /** Which pinned key of the chain matched, if any. */
  readonly pinMatched?: string | null;
  readonly error?: string;
  readonly latencyMs?: number;
}

function name(cert: PeerCertificate['subject'] | undefined): string | undefined {
  if (!cert) return undefined;
  return Object.entries(cert)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

/** Opens one verified TLS connection to the relay and reports what it saw. */
export function probeTls(
  relayUrl: string,
  trust: TrustOptions,
  timeoutMs = 5000,
): Promise<TlsReport> {
  const url = new URL(relayUrl);
  const ca = readCa(trust.caPath);
  const pins = effectivePins(trust, ca);
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }),
      ...(ca ? { ca } : {}),
      timeout: timeoutMs,
    });
    const done = (report: TlsReport) => {
      socket.destroy();
      resolvePromise(report);
    };
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      let pinMatched: string | null = null;
      const seen = new Set<string>();
      for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw; c = c.issuerCertificate) {
        const pin = spkiPin(new Uint8Array(c.raw));
        if (seen.has(pin)) break;
        seen.add(pin);
        if (pins.includes(pin)) {
          pinMatched = `sha256/${pin}`;
          break;
        }
      }
      const cipher = socket.getCipher();
      done({
        reachable: true,
        authorized: socket.authorized && (pins.length === 0 || pinMatched !== null),
        protocol: socket.getProtocol(),
        cipher: cipher.standardName ?? cipher.name,
        subject: name(leaf.subject),
        issuer: name(leaf.issuer),
        validFrom: leaf.valid_from,
        validTo: leaf.valid_to,
        fingerprint256: leaf.fingerprint256,
        pinMatched,
        latencyMs: Date.now() - started,
      });
    });
    socket.once('timeout', () => done({ reachable: false, error: 'timed out' }));
    socket.once('error', (error: Error & { code?: string }) =>
      done({
        reachable: false,
        error: error.code ? `${error.code}: ${error.message}` : error.message,
      }),
    );
  });
}
