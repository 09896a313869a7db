/**
 * The HTTP transport on undici (`Agent` + `request`, keep-alive; not `fetch`): the relay's
 * certificate is always verified — against the system roots or a given CA — and, when pins
 * are given, its public key must match one of them (SPKI SHA-256, as in HPKP; give a backup
 * pin). `HTTP(S)_PROXY` / `NO_PROXY` are honoured with the same CA and pins applied to the
 * relay's certificate through the tunnel. There is no option to turn verification off.
 *
 * Diagnostics channels: `fluxel:relay-client:request` (start), `…:response`, `…:error`,
 * carrying method, URL path, status and duration — never headers or bodies.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, type Dispatcher, EnvHttpProxyAgent, ProxyAgent, request } from 'undici';
import type { HttpRequest, HttpResponse, Transport } from '../client.js';
import { RelayConnectionError, RelayError, RelayTimeoutError, RelayTlsError } from '../errors.js';
import { checkTransportOptions } from './transport-options.js';

/**
 * Per-phase timeouts in milliseconds.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createUndiciTransport, type Timeouts } from '@fluxel/relay-client/node';
 *
 * const timeouts: Timeouts = { connectMs: 5_000, headersMs: 35_000, bodyMs: 30_000 };
 * await createUndiciTransport({ proxy: false, timeouts }).close();
 * ```
 */
export interface Timeouts {
  /** TCP + TLS handshake. Default 10 s. */
  readonly connectMs?: number;
  /** Until the response headers arrive. Default 35 s (long-poll pickups wait up to 30 s). */
  readonly headersMs?: number;
  /** Between body chunks. Default 30 s. */
  readonly bodyMs?: number;
}

/**
 * Options of {@link createUndiciTransport}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createUndiciTransport, type UndiciTransportOptions } from '@fluxel/relay-client/node';
 *
 * const options: UndiciTransportOptions = { proxy: false, maxResponseBytes: 1024 * 1024, keepAliveMs: 10_000 };
 * await createUndiciTransport(options).close();
 * ```
 */
export interface UndiciTransportOptions {
  /** PEM CA certificate(s) to trust instead of the system roots (e.g. the relay's own CA). */
  readonly ca?: string | readonly string[];
  /**
   * SPKI SHA-256 pins (`sha256/<base64>` or plain base64) of the relay's key or of a CA in its
   * chain. One must match. Always give a backup pin for the next key.
   */
  readonly pins?: readonly string[];
  readonly timeouts?: Timeouts;
  /** `env` (default): honour HTTP(S)_PROXY/NO_PROXY; a URL: always this proxy; `false`: none. */
  readonly proxy?: 'env' | string | false;
  /** Largest response body accepted. Default 8 MiB. */
  readonly maxResponseBytes?: number;
  /** Idle keep-alive sockets are closed after this. Default 30 s. */
  readonly keepAliveMs?: number;
  /** Environment to read proxy variables from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A transport plus `close()` for its connection pool.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createUndiciTransport, type UndiciTransport } from '@fluxel/relay-client/node';
 *
 * const transport: UndiciTransport = createUndiciTransport({ proxy: false });
 * assert.ok(transport.dispatcher);
 * await transport.close();
 * ```
 */
export interface UndiciTransport extends Transport {
  close(): Promise<void>;
  /** The dispatcher in use (for diagnostics and tests). */
  readonly dispatcher: Dispatcher;
}

const started = channel('fluxel:relay-client:request');
const finished = channel('fluxel:relay-client:response');
const failed = channel('fluxel:relay-client:error');

/**
 * Creates the undici transport.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createUndiciTransport } from '@fluxel/relay-client/node';
 *
 * const transport = createUndiciTransport({ proxy: false, timeouts: { connectMs: 5_000 } });
 * assert.equal(typeof transport, 'function'); // (request) => Promise<response>
 * await transport.close();
 * ```
 */
export function createUndiciTransport(options: UndiciTransportOptions = {}): UndiciTransport {
  checkTransportOptions(options);
  const pins = (options.pins ?? []).map((pin) => pin.replace(/^sha256\//, ''));
  for (const pin of pins) {
    if (Buffer.from(pin, 'base64').length !== 32) {
      throw new RelayError(
        'ERR_RELAY_INVALID_ARGUMENT',
        'a pin is the base64 SHA-256 of a SubjectPublicKeyInfo (32 bytes)',
      );
    }
  }
  const ca = options.ca === undefined ? undefined : [options.ca].flat();
  const tls = {
    ...(ca ? { ca } : {}),
    rejectUnauthorized: true,
    checkServerIdentity(host: string, certificate: PeerCertificate): Error | undefined {
      const mismatch = checkServerIdentity(host, certificate);
      if (mismatch) return mismatch;
      if (pins.length > 0 && !chainMatchesPin(certificate, pins)) {
        return new Error('the relay certificate does not match any pinned key');
      }
      return undefined;
    },
  };
  const timeouts = {
    connect: options.timeouts?.connectMs ?? 10_000,
    headers: options.timeouts?.headersMs ?? 35_000,
    body: options.timeouts?.bodyMs ?? 30_000,
  };
  const agentOptions = {
    connect: { ...tls, timeout: timeouts.connect },
    keepAliveTimeout: options.keepAliveMs ?? 30_000,
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
  };
  const env = options.env ?? process.env;
  const proxy = options.proxy ?? 'env';
  let dispatcher: Dispatcher;
  if (proxy === false) dispatcher = new Agent(agentOptions);
  else if (proxy === 'env') {
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    dispatcher =
      httpsProxy || httpProxy
        ? new EnvHttpProxyAgent({
            ...agentOptions,
            requestTls: { ...tls, timeout: timeouts.connect },
            ...(httpsProxy ? { httpsProxy } : {}),
            ...(httpProxy ? { httpProxy } : {}),
            noProxy: env.NO_PROXY ?? env.no_proxy ?? '',
          })
        : new Agent(agentOptions);
  } else {
    dispatcher = new ProxyAgent({
      ...agentOptions,
      uri: proxy,
      requestTls: { ...tls, timeout: timeouts.connect },
    });
  }
  const maxBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;

  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    const begin = performance.now();
    // The path is only needed by diagnostics subscribers: parsed then, once per URL.
    const path =
      started.hasSubscribers || finished.hasSubscribers || failed.hasSubscribers
        ? pathOf(req.url)
        : '';
    if (started.hasSubscribers) started.publish({ method: req.method, path });
    try {
      const response = await request(req.url, {
        dispatcher,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        ...(req.body ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        headersTimeout: timeouts.headers,
        bodyTimeout: timeouts.body,
      });
      const body = await readBody(response.body, response.headers['content-length'], maxBytes);
      // undici gives header names in lower case; a repeated header comes as an array.
      const headers: Record<string, string | undefined> = {};
      for (const name in response.headers) {
        const value = response.headers[name];
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      if (finished.hasSubscribers) {
        finished.publish({
          method: req.method,
          path,
          status: response.statusCode,
          durationMs: performance.now() - begin,
        });
      }
      return { status: response.statusCode, headers, body };
    } catch (error) {
      const mapped = mapError(error, req.signal);
      if (failed.hasSubscribers)
        failed.publish({
          method: req.method,
          path,
          code: mapped.code,
          durationMs: performance.now() - begin,
        });
      throw mapped;
    }
  };
  return Object.assign(transport, { close: () => dispatcher.close(), dispatcher });
}

type ResponseBody = Dispatcher.ResponseData['body'];

function tooLarge(maxBytes: number): RelayError {
  return new RelayError(
    'ERR_RELAY_PROBLEM',
    `the relay's response is larger than ${maxBytes} bytes`,
  );
}

/**
 * The whole body, at most `maxBytes`: read in one piece when `Content-Length` says it fits
 * (undici holds the connection to that length), else chunk by chunk with a running count.
 */
async function readBody(
  body: ResponseBody,
  contentLength: string | string[] | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
  if (Number.isSafeInteger(declared) && declared >= 0) {
    if (declared > maxBytes) {
      // Destroying an unread body makes undici emit an abort error: it is ours, expected.
      body.once('error', () => {});
      body.destroy();
      throw tooLarge(maxBytes);
    }
    return new Uint8Array(await body.arrayBuffer());
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) {
      body.destroy();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks);
}

const paths = new Map<string, string>();

/** The path of a request URL, remembered for the few URLs a client calls. */
function pathOf(url: string): string {
  let path = paths.get(url);
  if (path === undefined) {
    path = new URL(url).pathname;
    if (paths.size >= 256) paths.clear();
    paths.set(url, path);
  }
  return path;
}

/**
 * The SPKI SHA-256 pin (base64) of a PEM or DER certificate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { rootCertificates } from 'node:tls';
 * import { spkiPin } from '@fluxel/relay-client/node';
 *
 * // Pin your relay's key (or its CA) and a backup: pins: [spkiPin(relayCertPem), backupPin].
 * assert.match(spkiPin(rootCertificates[0] as string), /^[A-Za-z0-9+/]{43}=$/);
 * ```
 */
export function spkiPin(certificate: string | Uint8Array): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function chainMatchesPin(leaf: PeerCertificate, pins: readonly string[]): boolean {
  const seen = new Set<PeerCertificate>();
  let current: PeerCertificate | undefined = leaf;
  while (current && !seen.has(current) && current.raw) {
    seen.add(current);
    if (pins.includes(spkiPin(current.raw))) return true;
    current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate })
      .issuerCertificate;
  }
  return false;
}

const TLS_CODES =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/;

function mapError(error: unknown, signal: AbortSignal | undefined): RelayError {
  if (RelayError.isInstance(error)) return error;
  const e = error as {
    code?: string;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e.code ?? e.cause?.code ?? '';
  const message = `${e.message ?? ''} ${e.cause?.message ?? ''}`;
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || e.name === 'AbortError') {
    return new RelayError('ERR_RELAY_ABORTED', 'the request was aborted', {
      cause: error,
      retryable: false,
    });
  }
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new RelayTimeoutError(`the relay did not answer in time (${code})`, { cause: error });
  }
  if (TLS_CODES.test(code) || /pinned key|certificate|self.signed|altnames/i.test(message)) {
    return new RelayTlsError(`the relay's certificate is not trusted: ${message.trim()}`, {
      cause: error,
    });
  }
  return new RelayConnectionError(`could not reach the relay${code ? ` (${code})` : ''}`, {
    cause: error,
  });
}
