/**
 * `hotReload`: keeps a running `https`/`tls` server on the newest stored certificate
 * (`setSecureContext`), no restart.
 */
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import type { FileCertificateStore, StoredCertificate } from './store.js';

/**
 * The secure context options of a stored certificate (leaf + chain, key).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createSecureContext } from 'node:tls';
 * import { FileCertificateStore, secureContextOptions } from '@fluxel/acme-lite/node';
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
 *   const store = new FileCertificateStore({ root });
 *   const stored = await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   const options = await secureContextOptions(store, stored); // { cert: leaf + chain, key }
 *   assert.equal(options.key, keyPem);
 *   createSecureContext(options); // or https.createServer(options, app)
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export async function secureContextOptions(
  store: FileCertificateStore,
  stored: StoredCertificate,
): Promise<SecureContextOptions> {
  const { cert, key, chain } = await store.read(stored);
  return { cert: cert + chain, key };
}

/**
 * A running hot reload.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { createServer } from 'node:https';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, type HotReload, hotReload } from '@fluxel/acme-lite/node';
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
 *   const store = new FileCertificateStore({ root });
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   const reloading: HotReload = hotReload(createServer(), store, 'localhost');
 *   assert.equal((await reloading.reload())?.id, '42'); // installed now
 *   reloading.stop();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface HotReload {
  /** Installs the current certificate of the domain now; resolves to it (or undefined). */
  reload(): Promise<StoredCertificate | undefined>;
  /** Stops listening to the store. */
  stop(): void;
}

/**
 * Options of {@link hotReload}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { createServer } from 'node:https';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, type HotReloadOptions, hotReload } from '@fluxel/acme-lite/node';
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
 *   const store = new FileCertificateStore({ root });
 *   const installed: string[] = [];
 *   const options: HotReloadOptions = {
 *     pollMs: 60_000, // also pick up certificates the fluxel-acme CLI stores
 *     contextOptions: { minVersion: 'TLSv1.2' }, // kept on every reload
 *     onReload: (stored) => installed.push(stored.meta.serial),
 *     onError: (error) => console.error('certificate reload failed', error),
 *   };
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   const reloading = hotReload(createServer(), store, 'localhost', options);
 *   await reloading.reload();
 *   assert.deepEqual(installed, ['1d0c5e0f3a7b']);
 *   reloading.stop();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface HotReloadOptions {
  /**
   * Also look at the store every this many milliseconds, for certificates saved by another
   * process (e.g. the `fluxel-acme` CLI or a renewal worker). Off by default.
   */
  readonly pollMs?: number;
  /** Called when installing a certificate fails (the old one stays in place). */
  readonly onError?: (error: unknown) => void;
  /** Called after a new certificate was installed. */
  readonly onReload?: (stored: StoredCertificate) => void;
  /**
   * The server's own TLS settings (`ciphers`, `minVersion`, `honorCipherOrder`, `ecdhCurve`,
   * …), installed with every certificate. `server.setSecureContext` replaces the whole
   * context: whatever is not given here falls back to Node's defaults, so a server that
   * restricts its suites must repeat them here or lose them at the first reload.
   */
  readonly contextOptions?: Omit<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
}

/**
 * Keeps a running `https`/`tls` server on the newest stored certificate of `domain`: installs
 * it now and again whenever the store saves a certificate for that domain
 * (`server.setSecureContext`), so no restart is needed. Existing connections keep their
 * certificate; new handshakes get the new one. With `pollMs`, certificates stored by other
 * processes are picked up too.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { createServer } from 'node:https';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, type HotReload, hotReload, type StoredCertificate } from '@fluxel/acme-lite/node';
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
 * const https = createServer((_req, res) => res.end('shop')); // starts without a certificate
 * try {
 *   const store = new FileCertificateStore({ root });
 *   let reloading: HotReload | undefined;
 *   const installed = new Promise<StoredCertificate>((onReload) => {
 *     reloading = hotReload(https, store, 'localhost', { onReload });
 *   });
 *   // A renewal stores a certificate: the running server serves it to new connections, no restart.
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   assert.equal((await installed).id, '42');
 *   reloading?.stop();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export function hotReload(
  server: TlsServer,
  store: FileCertificateStore,
  domain: string,
  options: HotReloadOptions = {},
): HotReload {
  const onError = options.onError ?? (() => {});
  let installed: string | undefined;
  // Polling installs only what changed; an explicit reload() always installs.
  const install = async (force: boolean) => {
    const stored = await store.current(domain);
    if (stored && (force || stored.id + stored.meta.serial !== installed)) {
      server.setSecureContext({
        ...options.contextOptions,
        ...(await secureContextOptions(store, stored)),
      });
      installed = stored.id + stored.meta.serial;
      options.onReload?.(stored);
    }
    return stored;
  };
  const reload = () => install(true);
  const off = store.onSaved((stored) => {
    if (stored.meta.domains.includes(domain.toLowerCase())) install(false).catch(onError);
  });
  const timer = options.pollMs
    ? setInterval(() => install(false).catch(onError), options.pollMs)
    : undefined;
  timer?.unref();
  return {
    reload,
    stop: () => {
      off();
      if (timer) clearInterval(timer);
    },
  };
}
