/**
 * One TLS handshake with Node's TLS client, offering exactly what a test asks for (protocol
 * versions, cipher suites, client certificate), and what came of it. No timers: the result is
 * the handshake's (or, with `awaitServerData`, the server's first bytes or its alert).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';

export type Handshake =
  | { readonly ok: true; readonly protocol: string | null; readonly cipher: string }
  | { readonly ok: false; readonly error: string };

export interface ProbeOptions extends tls.ConnectionOptions {
  /**
   * Count the connection as accepted only once the server sent something (an HTTP/2 server
   * sends its SETTINGS at once). Needed where TLS 1.3 completes the client's side before the
   * server judged the client certificate.
   */
  readonly awaitServerData?: boolean;
}

/** Old protocol versions and suites are below OpenSSL 3's default security level. */
const LEGACY_CLIENT = 'DEFAULT@SECLEVEL=0';

/** Handshakes with `127.0.0.1:port` (SNI `localhost`) and reports the outcome. */
export function probe(port: number, options: ProbeOptions): Promise<Handshake> {
  const { awaitServerData, ...connect } = options;
  return new Promise((done) => {
    let settled = false;
    const finish = (result: Handshake) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      done(result);
    };
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...connect });
    const accepted = (): Handshake => ({
      ok: true,
      protocol: socket.getProtocol(),
      cipher: socket.getCipher()?.name ?? '?',
    });
    socket.once('secureConnect', () => {
      if (!awaitServerData) finish(accepted());
      else socket.once('data', () => finish(accepted()));
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, error: error.code ?? error.message }),
    );
    socket.once('close', () => finish({ ok: false, error: 'closed' }));
  });
}

/** A TLS 1.2 handshake offering only `cipher`. */
export const tls12 = (port: number, ca: string, cipher: string, extra: ProbeOptions = {}) =>
  probe(port, {
    ca,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: `${cipher}:@SECLEVEL=0`,
    ...extra,
  });

/** A TLS 1.1 handshake (any suite the client has). */
export const tls11 = (port: number, ca: string, extra: ProbeOptions = {}) =>
  probe(port, {
    ca,
    minVersion: 'TLSv1.1',
    maxVersion: 'TLSv1.1',
    ciphers: LEGACY_CLIENT,
    ...extra,
  });

/** TLS 1.2 suites that must be refused: CBC (LUCKY13 family), CCM8, no forward secrecy. */
export const REFUSED_TLS12 = [
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-ECDSA-AES128-CCM8',
  'ECDHE-ECDSA-AES128-CCM',
] as const;

/** TLS 1.2 suites that must be accepted with the (ECDSA) dev certificate. */
export const ACCEPTED_TLS12 = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
] as const;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A CA and a client certificate (clientAuth) it signed. */
export function clientPki(dir: string, name: string) {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    ['req', '-x509', ...EC, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`, '-days', '2']
      .concat(['-subj', `/CN=${name} client CA`, '-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign']),
  );
  run(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(
    join(dir, `${name}.ext`),
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  run(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${name}-ca.pem`,
      '-CAkey',
      `${name}-ca.key`,
    ].concat(['-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]),
  );
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read(`${name}-ca.pem`), cert: read(`${name}.pem`), key: read(`${name}.key`) };
}
