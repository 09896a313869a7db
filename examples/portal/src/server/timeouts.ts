/**
 * The portal's HTTP timeouts, so a slow or silent client cannot hold a connection (and with it
 * a socket and memory) for ever: Fastify's own default has no request timeout at all.
 *
 * - `requestMs`: the whole request (headers and body) must have arrived within this time, or
 *   Node answers 408 and closes the connection; `headersMs` the same for the headers alone.
 * - `checkIntervalMs`: how often Node looks for requests past those limits (its default is
 *   30 s, which would let a 30 s limit hold a connection for up to a minute).
 * - `connectionMs`: a connection on which nothing at all moves for this long is closed.
 * - `keepAliveMs`: an idle keep-alive connection between requests is closed after this.
 *
 * And an answer sent before the request's body was read (an early 403 for a missing CSRF
 * token, 401, 413, 429 …) closes the connection (`Connection: close`): otherwise Node would go
 * on reading the rest of the body to keep the connection, and a slow body would hold it.
 */
import type { FastifyInstance } from 'fastify';

export interface PortalTimeouts {
  /** Whole request received within; default 30 s. */
  readonly requestMs: number;
  /** Request headers received within; default 10 s; at most `requestMs`. */
  readonly headersMs: number;
  /** How often the two above are checked; default 1 s; at most `headersMs`. */
  readonly checkIntervalMs: number;
  /** A connection without any traffic is closed after; default 120 s; at least `requestMs`. */
  readonly connectionMs: number;
  /** An idle keep-alive connection is closed after; default 72 s (above common proxies' 60 s). */
  readonly keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: PortalTimeouts = Object.freeze({
  requestMs: 30_000,
  headersMs: 10_000,
  checkIntervalMs: 1_000,
  connectionMs: 120_000,
  keepAliveMs: 72_000,
});

const MIN_MS = 100;
const MAX_MS = 3_600_000;

/** The defaults with `given` applied; throws a `RangeError` saying what to fix. */
export function portalTimeouts(given: Partial<PortalTimeouts> = {}): PortalTimeouts {
  const t: PortalTimeouts = { ...DEFAULT_TIMEOUTS, ...given };
  for (const [name, value] of Object.entries(t))
    if (!Number.isInteger(value) || value < MIN_MS || value > MAX_MS)
      throw new RangeError(
        `timeouts.${name} must be a whole number of milliseconds from ${MIN_MS} to ${MAX_MS}, not ${String(value)}`,
      );
  if (t.headersMs > t.requestMs)
    throw new RangeError('timeouts.headersMs must not be longer than timeouts.requestMs');
  if (t.checkIntervalMs > t.headersMs)
    throw new RangeError('timeouts.checkIntervalMs must not be longer than timeouts.headersMs');
  if (t.connectionMs < t.requestMs)
    throw new RangeError('timeouts.connectionMs must not be shorter than timeouts.requestMs');
  return t;
}

/** Options for Node's HTTPS server (merged into Fastify's `https`). */
export function serverTimeoutOptions(t: PortalTimeouts) {
  return {
    requestTimeout: t.requestMs,
    headersTimeout: t.headersMs,
    connectionsCheckingInterval: t.checkIntervalMs,
    keepAliveTimeout: t.keepAliveMs,
  };
}

/** Options for `Fastify()` (it sets these on the server after creating it). */
export function fastifyTimeoutOptions(t: PortalTimeouts) {
  return {
    requestTimeout: t.requestMs,
    connectionTimeout: t.connectionMs,
    keepAliveTimeout: t.keepAliveMs,
  };
}

/** Does the request announce a body that has not fully arrived yet? */
function bodyPending(raw: {
  complete: boolean;
  headers: Record<string, string | string[] | undefined>;
}): boolean {
  if (raw.complete) return false;
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Answers sent before the request's body was read end the connection. */
export function closeAfterEarlyAnswer(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (bodyPending(req.raw)) void reply.header('connection', 'close');
    return payload;
  });
}
