/**
 * `evaluate` / `assertServing`: connects over TLS and checks the served chain, name and
 * certificate against the store.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { pemBlocks } from '../der.js';
import { AcmeError } from '../errors.js';
import type { FileCertificateStore } from './store.js';

/**
 * Options of {@link evaluate}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { type EvaluateOptions, FileCertificateStore } from '@fluxel/acme-lite/node';
 *
 * const options: EvaluateOptions = {
 *   port: 8443, // where the router forwards 443
 *   host: '127.0.0.1', // connect here, still verify the name
 *   store: new FileCertificateStore({ root: join(tmpdir(), 'myapp') }),
 *   timeoutMs: 5_000,
 * };
 * // const result = await evaluate('shop.example.org', options);
 * assert.equal(options.port, 8443);
 * ```
 */
export interface EvaluateOptions {
  /** Port. Default 443. */
  readonly port?: number;
  /** Connect to this host instead of resolving the domain (the name is still verified). */
  readonly host?: string;
  /** Trust these CA certificates instead of the system store. */
  readonly ca?: string | readonly string[];
  /** The store whose current certificate for the domain must be the one served. */
  readonly store?: FileCertificateStore;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * The outcome of {@link evaluate}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type EvaluateResult, evaluate } from '@fluxel/acme-lite/node';
 *
 * // Nothing listens on port 1: `ok` is false and `reason` says why (evaluate never throws).
 * const result: EvaluateResult = await evaluate('localhost', { host: '127.0.0.1', port: 1, timeoutMs: 1_000 });
 * assert.equal(result.ok, false);
 * assert.equal(result.trusted, false);
 * assert.match(result.reason, /ECONNREFUSED/);
 * ```
 */
export interface EvaluateResult {
  readonly ok: boolean;
  /** Why not, when not ok; "ok" otherwise. */
  readonly reason: string;
  readonly domain: string;
  readonly port: number;
  /** Serial of the served certificate (hex). */
  readonly servedSerial?: string;
  /** Serial of the stored current certificate, when a store was given. */
  readonly storedSerial?: string;
  readonly notAfter?: Date;
  readonly daysLeft?: number;
  /** The chain verified against the trust store. */
  readonly trusted: boolean;
}

/**
 * Connects over TLS to `domain` (port 443 unless told), verifies the chain against the
 * system store (or `ca`) and the name, and when a store is given checks that the served
 * certificate is the stored current one. Never throws for a failed check: `ok` is false and
 * `reason` says why.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { createServer } from 'node:https';
 * import type { AddressInfo } from 'node:net';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { evaluate, FileCertificateStore } from '@fluxel/acme-lite/node';
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
 * const server = createServer({ cert: certPem, key: keyPem });
 * try {
 *   const store = new FileCertificateStore({ root });
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem });
 *   await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
 *   const { port } = server.address() as AddressInfo;
 *   // The "evaluate" button: served chain trusted, name right, and the stored certificate served.
 *   const result = await evaluate('localhost', { host: '127.0.0.1', port, ca: certPem, store });
 *   assert.equal(result.ok, true, result.reason);
 *   assert.equal(result.servedSerial, result.storedSerial);
 * } finally {
 *   server.close();
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export async function evaluate(
  domain: string,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const port = options.port ?? 443;
  const base = { domain, port };
  const stored = options.store ? await options.store.current(domain) : undefined;
  const storedSerial = stored?.meta.serial;
  const storedDer = stored ? pemBlocks(await readFile(stored.certPath, 'utf8'))[0] : undefined;
  const withStored = storedSerial ? { storedSerial } : {};
  return new Promise<EvaluateResult>((resolve) => {
    const socket = connect({
      host: options.host ?? domain,
      port,
      ...(isIP(domain) ? {} : { servername: domain }),
      ...(options.ca ? { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } : {}),
      timeout: options.timeoutMs ?? 10_000,
    });
    let done = false;
    const finish = (result: EvaluateResult) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      const servedSerial = (peer.serialNumber ?? '').toLowerCase().replace(/^0+(?=.)/, '');
      const notAfter = new Date(peer.valid_to);
      const daysLeft = Math.floor((notAfter.getTime() - Date.now()) / 86_400_000);
      const served = { servedSerial, notAfter, daysLeft, trusted: true, ...withStored };
      if (options.store && !storedSerial)
        return finish({
          ...base,
          ...served,
          ok: false,
          reason: `no current certificate for ${domain} in the store`,
        });
      if (storedSerial && (storedSerial !== servedSerial || !sameBytes(peer.raw, storedDer)))
        return finish({
          ...base,
          ...served,
          ok: false,
          reason: `the server presents serial ${servedSerial}, the store holds ${storedSerial}`,
        });
      finish({ ...base, ...served, ok: true, reason: 'ok' });
    });
    socket.once('timeout', () =>
      finish({ ...base, ...withStored, ok: false, trusted: false, reason: 'timed out' }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({
        ...base,
        ...withStored,
        ok: false,
        trusted: false,
        reason: `${error.code ?? 'ERROR'}: ${error.message}`,
      }),
    );
  });
}

/**
 * {@link evaluate}, but throws `ERR_ACME_EVALUATE_FAILED` (with the reason) when the check
 * fails — for startup checks and health probes.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { assertServing } from '@fluxel/acme-lite/node';
 *
 * // A startup check or health probe: throws when the check fails.
 * await assert.rejects(assertServing('localhost', { host: '127.0.0.1', port: 1, timeoutMs: 1_000 }), {
 *   code: 'ERR_ACME_EVALUATE_FAILED',
 * });
 * ```
 */
export async function assertServing(
  domain: string,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const result = await evaluate(domain, options);
  if (!result.ok)
    throw new AcmeError(
      'ERR_ACME_EVALUATE_FAILED',
      `https://${domain}:${result.port}: ${result.reason}`,
    );
  return result;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
