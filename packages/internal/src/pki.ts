/**
 * Test PKI made with the `openssl` command: a CA (P-256) and a server certificate it issued
 * for the given names (IP addresses and DNS names), valid for two days. For tests and
 * benchmarks only; never bundled into a package.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link makeTestPki}. */
export interface TestPkiOptions {
  /** Where the files go. Default: a new temporary folder. */
  readonly dir?: string;
  /** Names for the server certificate; the first is also its CN. Default 127.0.0.1, localhost. */
  readonly names?: readonly string[];
  /** The CA's common name. */
  readonly caName?: string;
}

/** A test CA and a server certificate it issued, as PEM text and as files. */
export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  readonly caPath: string;
  readonly caKeyPath: string;
  readonly certPem: string;
  readonly certPath: string;
  readonly keyPem: string;
  readonly keyPath: string;
}

/** Makes a CA and a server certificate for `names` with openssl. */
export function makeTestPki(options: TestPkiOptions = {}): TestPki {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fluxel-pki-'));
  const names = options.names ?? ['127.0.0.1', 'localhost'];
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    `/CN=${options.caName ?? 'fluxel test CA'}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(
    join(dir, 'ext.cnf'),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    caPath: file('ca.pem'),
    caKeyPath: file('ca.key'),
    certPem: readFileSync(file('server.pem'), 'utf8'),
    certPath: file('server.pem'),
    keyPem: readFileSync(file('server.key'), 'utf8'),
    keyPath: file('server.key'),
  };
}
