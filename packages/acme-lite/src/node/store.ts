/**
 * `FileCertificateStore`: certificates, keys and the account in the documented folder layout
 * (`letsencrypt/<directory-host-reversed>/orders/<order-id>/`), atomic writes, a per-domain
 * lock, and `current(domain)`.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { processAlive } from '../../../internal/src/process-alive.js';
import type { IssuedCertificate } from '../client.js';
import { AcmeError } from '../errors.js';
import type { PrivateJwk } from '../jws.js';
import { LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING } from '../objects.js';
import { type CertificateInfo, parseCertificatePem } from '../x509.js';

/**
 * The folder name of a directory URL: the host's labels reversed
 * (`acme-v02.api.letsencrypt.org` → `org.letsencrypt.api.acme-v02`); an explicit port is
 * appended with `_` (`127.0.0.1:14000` → `1.0.0.127_14000`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { directoryFolder, LETS_ENCRYPT_PRODUCTION } from '@fluxel/acme-lite/node';
 *
 * assert.equal(directoryFolder(LETS_ENCRYPT_PRODUCTION), 'org.letsencrypt.api.acme-v02');
 * assert.equal(directoryFolder('https://127.0.0.1:14000/dir'), '1.0.0.127_14000'); // Pebble
 * ```
 */
export function directoryFolder(directoryUrl: string): string {
  const url = new URL(directoryUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const reversed = isIP(host) === 6 ? host.replace(/:/g, '-') : host.split('.').reverse().join('.');
  return url.port ? `${reversed}_${url.port}` : reversed;
}

/**
 * meta.json of a stored certificate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, readFile, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { type CertificateMeta, FileCertificateStore } from '@fluxel/acme-lite/node';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   const stored = await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem: '' });
 *   const meta: CertificateMeta = JSON.parse(await readFile(stored.metaPath, 'utf8'));
 *   assert.equal(meta.serial, '1d0c5e0f3a7b');
 *   assert.deepEqual(meta.domains, ['localhost']);
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface CertificateMeta {
  readonly domains: readonly string[];
  readonly orderUrl: string;
  readonly directoryUrl: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly ariId?: string;
  readonly profile?: string;
}

/**
 * A certificate in the store.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, type StoredCertificate } from '@fluxel/acme-lite/node';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem: '' });
 *   const current: StoredCertificate | undefined = await store.current('localhost');
 *   assert.equal(current?.id, '42');
 *   assert.equal(current?.certPath, join(store.base, 'orders', '42', 'cert.pem'));
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface StoredCertificate {
  /** The order id (the folder name). */
  readonly id: string;
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly chainPath: string;
  readonly metaPath: string;
  readonly meta: CertificateMeta;
}

/**
 * What `show` reports about a stored certificate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { type CertificateReport, FileCertificateStore } from '@fluxel/acme-lite/node';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem: '' });
 *   const report: CertificateReport | undefined = await store.show('localhost', Date.parse('2045-12-01T00:00:00Z'));
 *   assert.equal(report?.subject, 'CN=localhost');
 *   assert.equal(report?.daysLeft, 31);
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface CertificateReport extends StoredCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly sans: readonly string[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
}

/**
 * The account kept in the store.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, generateAccountKey, type StoredAccount } from '@fluxel/acme-lite/node';
 *
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   const account: StoredAccount = {
 *     url: 'https://ca.example/acme/acct/1',
 *     privateJwk: (await generateAccountKey()).privateJwk,
 *     contact: ['mailto:ops@example.org'],
 *   };
 *   await store.saveAccount(account);
 *   assert.equal((await store.loadAccount())?.url, 'https://ca.example/acme/acct/1');
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface StoredAccount {
  readonly url?: string;
  readonly privateJwk: PrivateJwk;
  readonly contact?: readonly string[];
}

/**
 * Options of {@link FileCertificateStore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, type FileCertificateStoreOptions, LETS_ENCRYPT_STAGING } from '@fluxel/acme-lite/node';
 *
 * const options: FileCertificateStoreOptions = {
 *   root: join(tmpdir(), 'myapp'), // nothing is written until something is saved
 *   directoryUrl: LETS_ENCRYPT_STAGING,
 *   staleLockMs: 60_000,
 * };
 * const store = new FileCertificateStore(options);
 * assert.equal(store.base, join(tmpdir(), 'myapp', 'letsencrypt', 'org.letsencrypt.api.acme-staging-v02'));
 * assert.throws(() => new FileCertificateStore({ root: '' }), { code: 'ERR_ACME_INVALID_ARGUMENT' });
 * ```
 */
export interface FileCertificateStoreOptions {
  /** The folder holding `letsencrypt/`. */
  readonly root: string;
  /** The ACME directory URL the certificates come from. Default Let's Encrypt production. */
  readonly directoryUrl?: string;
  /** A lock older than this is stale even when its process seems alive. Default 10 minutes. */
  readonly staleLockMs?: number;
}

const ORDER_ID = /^[A-Za-z0-9_-]{1,128}$/;

function storeError(message: string, cause?: unknown): AcmeError {
  return new AcmeError('ERR_ACME_STORE', message, cause === undefined ? {} : { cause });
}

/**
 * Writes a file atomically (temporary file, fsync, rename) with the given mode.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { writeFileAtomic } from '@fluxel/acme-lite/node';
 *
 * const dir = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const path = join(dir, 'key.pem');
 *   await writeFileAtomic(path, '-----BEGIN PRIVATE KEY-----\n…\n', 0o600); // readers never see half a file
 *   assert.equal(await readFile(path, 'utf8'), '-----BEGIN PRIVATE KEY-----\n…\n');
 *   if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw storeError(`could not write ${path}`, cause);
  }
}

/**
 * Certificates, keys and the account in the documented folder layout.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore } from '@fluxel/acme-lite/node';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const keyPem = [
 *   '-----BEGIN PRIVATE KEY-----',
 *   'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSpc6VdqPzwRsDC9J',
 *   'fyQM5AOBlLTAFsjc90o/v/w7cEOhRANCAAS1avPz0hgNUaICmqZHIRjRc5cisoJ3',
 *   'MkUatAii5I6it8gEFCL1KoOsbxQgE4dT2jNCtjQpu1lXVvnPR7p/ZF0O',
 *   '-----END PRIVATE KEY-----',
 * ].join('\n');
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root }); // Let's Encrypt production
 *   const saved: string[] = [];
 *   store.onSaved((stored) => saved.push(stored.id));
 *   // What AcmeClient.issue() returns.
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   assert.deepEqual(saved, ['42']);
 *   const current = await store.current('localhost');
 *   assert.equal((await store.read(current!)).key, keyPem);
 *   const release = await store.lock('localhost'); // one renewal per domain at a time
 *   await release();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export class FileCertificateStore {
  readonly root: string;
  readonly directoryUrl: string;
  /** `<root>/letsencrypt/<directory-host-reversed>`. */
  readonly base: string;
  readonly #staleLockMs: number;
  readonly #events = new EventEmitter();

  constructor(options: FileCertificateStoreOptions) {
    if (typeof options?.root !== 'string' || options.root.length === 0)
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        'FileCertificateStore needs root, the folder that holds letsencrypt/, e.g. new FileCertificateStore({ root: "/var/lib/myapp" })',
      );
    if (options.directoryUrl !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(options.directoryUrl);
      } catch {
        url = undefined;
      }
      if (url?.protocol !== 'https:' && url?.protocol !== 'http:')
        throw new AcmeError(
          'ERR_ACME_INVALID_ARGUMENT',
          `directoryUrl must be the ACME directory URL, e.g. ${LETS_ENCRYPT_STAGING}, got ${JSON.stringify(String(options.directoryUrl).slice(0, 200))}`,
        );
    }
    const stale = options.staleLockMs;
    if (stale !== undefined && !(Number.isFinite(stale) && stale > 0))
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        'staleLockMs must be a number of milliseconds > 0',
      );
    this.root = options.root;
    this.directoryUrl = options.directoryUrl ?? LETS_ENCRYPT_PRODUCTION;
    this.base = join(options.root, 'letsencrypt', directoryFolder(this.directoryUrl));
    this.#staleLockMs = options.staleLockMs ?? 600_000;
  }

  /** Calls `listener` whenever a certificate is saved through this store object. */
  onSaved(listener: (stored: StoredCertificate) => void): () => void {
    this.#events.on('saved', listener);
    return () => this.#events.off('saved', listener);
  }

  #paths(id: string) {
    if (!ORDER_ID.test(id)) throw storeError(`not an order id: ${id}`);
    const dir = join(this.base, 'orders', id);
    return {
      id,
      dir,
      certPath: join(dir, 'cert.pem'),
      keyPath: join(dir, 'key.pem'),
      chainPath: join(dir, 'chain.pem'),
      metaPath: join(dir, 'meta.json'),
    };
  }

  /** Saves an issued certificate under its order id; meta.json is written last. */
  async save(issued: IssuedCertificate): Promise<StoredCertificate> {
    const rawId = issued.orderUrl.split('/').filter(Boolean).pop() ?? '';
    const id = rawId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
    const paths = this.#paths(id);
    const info = parseCertificatePem(issued.certPem);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(paths.keyPath, issued.keyPem, 0o600);
    await writeFileAtomic(paths.certPath, issued.certPem);
    await writeFileAtomic(paths.chainPath, issued.chainPem);
    const meta: CertificateMeta = {
      domains: issued.identifiers,
      orderUrl: issued.orderUrl,
      directoryUrl: this.directoryUrl,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuedAt: new Date().toISOString(),
      ...(info.ariId ? { ariId: info.ariId } : {}),
      ...(issued.profile ? { profile: issued.profile } : {}),
    };
    await writeFileAtomic(paths.metaPath, `${JSON.stringify(meta, null, 2)}\n`);
    const stored = { ...paths, meta };
    this.#events.emit('saved', stored);
    return stored;
  }

  /** Every complete stored certificate (folders with meta.json), newest first. */
  async list(): Promise<StoredCertificate[]> {
    let names: string[];
    try {
      names = await readdir(join(this.base, 'orders'));
    } catch {
      return [];
    }
    const out: StoredCertificate[] = [];
    for (const name of names) {
      if (!ORDER_ID.test(name)) continue;
      const paths = this.#paths(name);
      try {
        const meta = JSON.parse(await readFile(paths.metaPath, 'utf8')) as CertificateMeta;
        out.push({ ...paths, meta });
      } catch {
        // incomplete or deleted
      }
    }
    return out.sort(
      (a, b) =>
        b.meta.notBefore.localeCompare(a.meta.notBefore) ||
        b.meta.issuedAt.localeCompare(a.meta.issuedAt),
    );
  }

  /** The newest certificate for `domain` that is valid now and still has its key. */
  async current(domain: string, now = Date.now()): Promise<StoredCertificate | undefined> {
    const name = domain.toLowerCase();
    for (const stored of await this.list()) {
      if (!stored.meta.domains.includes(name)) continue;
      if (Date.parse(stored.meta.notAfter) <= now || Date.parse(stored.meta.notBefore) > now)
        continue;
      if (!(await exists(stored.certPath)) || !(await exists(stored.keyPath))) continue;
      return stored;
    }
    return undefined;
  }

  /** Finds by order id, or the current certificate of a domain. */
  async find(idOrDomain: string): Promise<StoredCertificate | undefined> {
    if (ORDER_ID.test(idOrDomain)) {
      const byId = (await this.list()).find((s) => s.id === idOrDomain);
      if (byId) return byId;
    }
    return this.current(idOrDomain);
  }

  /** Certificate, key and chain PEM of a stored certificate. */
  async read(stored: StoredCertificate): Promise<{ cert: string; key: string; chain: string }> {
    try {
      const [cert, key, chain] = await Promise.all([
        readFile(stored.certPath, 'utf8'),
        readFile(stored.keyPath, 'utf8'),
        readFile(stored.chainPath, 'utf8').catch(() => ''),
      ]);
      return { cert, key, chain };
    } catch (cause) {
      throw storeError(`certificate ${stored.id} is incomplete`, cause);
    }
  }

  /** Paths, subject, SANs, issuer, validity and days left. */
  async show(idOrDomain: string, now = Date.now()): Promise<CertificateReport | undefined> {
    const stored = await this.find(idOrDomain);
    if (!stored) return undefined;
    const info: CertificateInfo = parseCertificatePem(await readFile(stored.certPath, 'utf8'));
    return {
      ...stored,
      subject: info.subject,
      issuer: info.issuer,
      sans: info.sans,
      serial: info.serial,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      daysLeft: Math.floor((info.notAfter.getTime() - now) / 86_400_000),
    };
  }

  /** Deletes cert.pem and key.pem (and the rest of the order folder). */
  async delete(id: string): Promise<boolean> {
    const paths = this.#paths(id);
    if (!(await exists(paths.dir))) return false;
    await unlink(paths.keyPath).catch(() => {});
    await unlink(paths.certPath).catch(() => {});
    await rm(paths.dir, { recursive: true, force: true });
    return true;
  }

  /**
   * Takes the exclusive lock for `domain` (a lock file created with `wx` holding pid and time).
   * A lock whose process is gone, or older than `staleLockMs`, is taken over. Throws
   * `ERR_ACME_LOCKED` while another live process holds it. Returns the release function.
   */
  async lock(domain: string): Promise<() => Promise<void>> {
    const dir = join(this.base, 'locks');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${domain.toLowerCase().replace(/[^a-z0-9.-]/g, '_')}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, time: Date.now() }));
        closeSync(fd);
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw storeError(`cannot lock ${path}`, error);
        const holder = await readFile(path, 'utf8')
          .then((t) => JSON.parse(t) as { pid?: number; time?: number })
          .catch(() => ({}) as { pid?: number; time?: number });
        const stale =
          typeof holder.pid !== 'number' ||
          !processAlive(holder.pid) ||
          Date.now() - (holder.time ?? 0) > this.#staleLockMs;
        if (!stale || attempt > 0)
          throw new AcmeError(
            'ERR_ACME_LOCKED',
            `${domain} is being ordered by process ${holder.pid}`,
          );
        await unlink(path).catch(() => {});
      }
    }
    throw new AcmeError('ERR_ACME_LOCKED', `${domain} is locked`);
  }

  /** The stored account (key 0600), if any. */
  async loadAccount(): Promise<StoredAccount | undefined> {
    try {
      return JSON.parse(await readFile(join(this.base, 'account.json'), 'utf8')) as StoredAccount;
    } catch {
      return undefined;
    }
  }

  /** Stores the account key and URL (0600). */
  async saveAccount(account: StoredAccount): Promise<void> {
    await mkdir(this.base, { recursive: true, mode: 0o700 });
    await writeFileAtomic(
      join(this.base, 'account.json'),
      `${JSON.stringify(account, null, 2)}\n`,
      0o600,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
