/**
 * Development TLS: a local CA and a server certificate for 127.0.0.1 / localhost, made with
 * openssl on first start and reused afterwards. The agent trusts (pins) the CA file
 * explicitly; certificate verification is never turned off anywhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
