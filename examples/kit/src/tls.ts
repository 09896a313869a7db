/**
 * Development TLS: a local CA and a server certificate for 127.0.0.1 / localhost, made with
 * openssl on first start and reused afterwards. The agent trusts (pins) the CA file
 * explicitly; certificate verification is never turned off anywhere.
 *
 * Also the TLS policy every server of the relay and the portal uses ({@link TLS_SERVER_POLICY}).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';

export interface DevTls {
  readonly dir: string;
  /** Path of the CA certificate the agent must trust. */
  readonly caPath: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Loads the CA and server certificate from `dir`, creating them when absent. */
export function ensureDevTls(dir: string, options: { days?: number } = {}): DevTls {
  const days = String(options.days ?? 825);
  const caPath = join(dir, 'ca.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server.key');
  if (!existsSync(caPath) || !existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const subj = ['-subj', '/CN=Fluxel Relay Dev CA'];
    openssl(
      ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', days, ...subj]
        .concat(['-addext', 'basicConstraints=critical,CA:TRUE'])
        .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
      dir,
    );
    openssl(
      ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'],
      dir,
    );
    writeFileSync(
      join(dir, 'server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n',
    );
    openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key']
        .concat(['-CAcreateserial', '-out', 'server.pem', '-days', days])
        .concat(['-extfile', 'server.ext']),
      dir,
    );
    rmSync(join(dir, 'server.csr'), { force: true });
  }
  return {
    dir,
    caPath,
    ca: readFileSync(caPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
  };
}

/**
 * TLS 1.3 suites (all AEAD with forward secrecy): Node's defaults, listed because a `ciphers`
 * string without any `TLS_…` entry would switch TLS 1.3 off.
 */
export const TLS13_CIPHER_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
] as const;

/**
 * TLS 1.2 suites: ECDHE (forward secrecy) with an AEAD cipher only — AES-GCM and
 * ChaCha20-Poly1305, for ECDSA and RSA certificates. No CBC (LUCKY13 and padding-oracle
 * family), no CCM8 (short tag), no static RSA or DHE key exchange.
 */
export const TLS12_AEAD_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/**
 * The one TLS policy of every server here — the relay's HTTPS listener, its admin gRPC API and
 * the portal: TLS 1.2 or newer, AEAD suites with forward secrecy only, in the server's order.
 * Spread it into `https`/`tls`/`http2` server options and into every `setSecureContext` call
 * (or use {@link keepTlsPolicy}): `setSecureContext` drops options it is not given.
 */
export const TLS_SERVER_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_CIPHER_SUITES, ...TLS12_AEAD_CIPHERS].join(':'),
  honorCipherOrder: true,
} as const satisfies Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'>;

/**
 * Makes a TLS server keep {@link TLS_SERVER_POLICY} across certificate hot reloads:
 * `server.setSecureContext(options)` resets every option it is not given (ciphers and minimum
 * version to Node's defaults), so a new certificate would otherwise bring CBC suites back.
 */
export function keepTlsPolicy<T extends { setSecureContext(options: SecureContextOptions): void }>(
  server: T,
): T {
  const install = server.setSecureContext.bind(server);
  server.setSecureContext = (options: SecureContextOptions) =>
    install({ ...options, ...TLS_SERVER_POLICY });
  return server;
}
