/**
 * The undici transport's options, checked before any connection pool exists: a wrong one fails
 * with `ERR_RELAY_INVALID_ARGUMENT` naming it, not later with a raw "Invalid URL" or TypeError.
 */
import { RelayError } from '../errors.js';

const invalid = (message: string) => new RelayError('ERR_RELAY_INVALID_ARGUMENT', message);

function optionalMs(value: unknown, name: string, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw invalid(`${name} must be a whole number of milliseconds ≥ ${min} (or left out)`);
}

/**
 * Checks the options of `createUndiciTransport` (and of `createRelayClient`, which passes them on).
 *
 * @throws `RelayError` `ERR_RELAY_INVALID_ARGUMENT` naming the first wrong option.
 */
export function checkTransportOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null)
    throw invalid('transport options must be an object (or left out)');
  const o = options as Record<string, unknown>;
  if (o.ca !== undefined) {
    const list = Array.isArray(o.ca) ? o.ca : [o.ca];
    // A Buffer read without an encoding is what Node's TLS takes too.
    const pem = (value: unknown) =>
      (typeof value === 'string' && value !== '') ||
      (value instanceof Uint8Array && value.length > 0);
    if (list.length === 0 || !list.every(pem))
      throw invalid('ca must be a PEM string or a non-empty list of PEM strings (or left out)');
  }
  if (o.pins !== undefined) {
    if (!Array.isArray(o.pins) || o.pins.some((pin) => typeof pin !== 'string'))
      throw invalid(
        "pins must be a list of 'sha256/<base64>' SPKI pins, e.g. [spkiPin(relayCertPem), backupPin]",
      );
  }
  if (o.timeouts !== undefined) {
    if (typeof o.timeouts !== 'object' || o.timeouts === null)
      throw invalid('timeouts must be an object { connectMs, headersMs, bodyMs } (or left out)');
    const t = o.timeouts as Record<string, unknown>;
    for (const name of ['connectMs', 'headersMs', 'bodyMs'])
      optionalMs(t[name], `timeouts.${name}`, 1);
  }
  optionalMs(o.keepAliveMs, 'keepAliveMs', 1);
  if (
    o.maxResponseBytes !== undefined &&
    (typeof o.maxResponseBytes !== 'number' ||
      !Number.isSafeInteger(o.maxResponseBytes) ||
      o.maxResponseBytes < 1)
  )
    throw invalid('maxResponseBytes must be a whole number of bytes ≥ 1 (or left out)');
  if (o.proxy !== undefined && o.proxy !== false && o.proxy !== 'env') {
    let url: URL | undefined;
    try {
      url = typeof o.proxy === 'string' ? new URL(o.proxy) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw invalid(
        "proxy must be 'env' (default), false, or the proxy's URL, e.g. 'http://proxy.example:3128'",
      );
  }
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null))
    throw invalid('env must be an object of environment variables (or left out)');
}
