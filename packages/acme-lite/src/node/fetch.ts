/**
 * `acmeFetch`: a fetch on undici that trusts a given CA (for Pebble or a private ACME server);
 * verification stays on.
 */
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * Options of {@link acmeFetch}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AcmeFetchOptions, acmeFetch } from '@fluxel/acme-lite/node';
 *
 * const seen: string[] = [];
 * const options: AcmeFetchOptions = {
 *   // ca: pebbleCaPem, // trust Pebble's (or your private CA's) certificate
 *   onResponse: ({ method, url, status }) => seen.push(`${method} ${url} ${status}`),
 * };
 * assert.equal(typeof acmeFetch(options), 'function');
 * ```
 */
export interface AcmeFetchOptions {
  /** PEM CA certificate(s) to trust instead of the system store (e.g. Pebble's). */
  readonly ca?: string | readonly string[];
  /** Called after every response with method, URL, status and milliseconds (to count requests). */
  readonly onResponse?: (info: { method: string; url: string; status: number; ms: number }) => void;
}

/**
 * A `fetch` for {@link AcmeClient} on undici that trusts `ca` when given (verification stays
 * on; there is no option to turn it off).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createServer } from 'node:https';
 * import type { AddressInfo } from 'node:net';
 * import { acmeFetch } from '@fluxel/acme-lite/node';
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
 * // A private CA's directory (here a local server with a self-signed certificate).
 * const server = createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('{}'));
 * await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
 * try {
 *   const { port } = server.address() as AddressInfo;
 *   const statuses: number[] = [];
 *   const caFetch = acmeFetch({ ca: certPem, onResponse: ({ status }) => statuses.push(status) });
 *   // new AcmeClient({ directoryUrl, accountKey, fetch: caFetch }) uses it the same way.
 *   const res = await caFetch(`https://localhost:${port}/directory`);
 *   assert.equal(res.status, 200);
 *   assert.deepEqual(statuses, [200]);
 *   // The default fetch does not trust it: verification is never turned off.
 *   await assert.rejects(acmeFetch()(`https://localhost:${port}/directory`));
 * } finally {
 *   server.close();
 * }
 * ```
 */
export function acmeFetch(options: AcmeFetchOptions = {}): typeof fetch {
  const dispatcher = options.ca
    ? new Agent({ connect: { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } })
    : undefined;
  const onResponse = options.onResponse;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const started = performance.now();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await undiciFetch(url, {
      ...(init as Record<string, unknown>),
      ...(dispatcher ? { dispatcher } : {}),
    });
    if (onResponse) {
      const noBody = init?.method === 'HEAD' || [101, 204, 205, 304].includes(res.status);
      const text = noBody ? '' : await res.text();
      onResponse({
        method: init?.method ?? 'GET',
        url,
        status: res.status,
        ms: performance.now() - started,
      });
      return new Response(noBody ? null : text, {
        status: res.status,
        headers: res.headers as unknown as Headers,
      });
    }
    return res as unknown as Response;
  }) as typeof fetch;
}
