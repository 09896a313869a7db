/**
 * The relay client's options, checked when the client is built: a wrong option fails at once
 * with `ERR_RELAY_INVALID_ARGUMENT` naming it and what to pass, not at the first call with a
 * runtime's raw message ("Invalid URL", "x is not a function").
 */
import { checkFunction, checkNumber } from './check-options.js';
import { RelayError } from './errors.js';

const invalid = (message: string) => new RelayError('ERR_RELAY_INVALID_ARGUMENT', message);

const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * The relay's base URL: `https://…`, or `http://` on a loopback address (tests only).
 *
 * @throws `RelayError` `ERR_RELAY_INVALID_ARGUMENT`.
 */
export function relayBaseUrl(value: unknown): URL {
  const example = 'e.g. { baseUrl: "https://relay.example.com" }';
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(`baseUrl is required: the relay's URL, ${example}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`baseUrl is not a URL: ${JSON.stringify(value.slice(0, 200))}, ${example}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    throw invalid('the relay URL must be https:// (http only on loopback, for tests)');
  return url;
}

/**
 * Checks the options every relay client takes (the transport is checked by whoever builds it).
 *
 * @throws `RelayError` `ERR_RELAY_INVALID_ARGUMENT` naming the first wrong option.
 */
export function checkClientOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null)
    throw invalid('options are required: { baseUrl, device, … }');
  const o = options as Record<string, unknown>;
  relayBaseUrl(o.baseUrl);
  const device = o.device as Record<string, unknown> | undefined;
  if (typeof device !== 'object' || device === null || !isFunction(device.proof))
    throw invalid(
      'device must be a DPoP proof signer with proof(request), e.g. createDpopSigner(privateJwk) from @fluxel/license',
    );
  const tokens = o.tokens as Record<string, unknown> | undefined;
  if (
    tokens !== undefined &&
    (typeof tokens !== 'object' ||
      tokens === null ||
      !isFunction(tokens.load) ||
      !isFunction(tokens.save))
  )
    throw invalid('tokens must be a token store with load() and save() (or left out: memory)');
  if (o.retry !== undefined) {
    if (typeof o.retry !== 'object' || o.retry === null)
      throw invalid(
        'retry must be an object { attempts, baseDelayMs, maxDelayMs, maxRetryAfterMs }',
      );
    const retry = o.retry as Record<string, unknown>;
    checkNumber(retry['attempts'], 'retry.attempts', 1, true);
    checkNumber(retry['baseDelayMs'], 'retry.baseDelayMs', 0);
    checkNumber(retry['maxDelayMs'], 'retry.maxDelayMs', 0);
    checkNumber(retry['maxRetryAfterMs'], 'retry.maxRetryAfterMs', 0);
  }
  if (o.userAgent !== undefined && typeof o.userAgent !== 'string')
    throw invalid('userAgent must be a string');
  for (const name of ['traceparent', 'now', 'sleep', 'random']) checkFunction(o[name], name);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
