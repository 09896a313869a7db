/**
 * Which failed calls never reached the third party. A call whose connection could not be
 * opened — DNS, refused, unreachable, the connect timeout, the TLS handshake (certificate,
 * protocol) — wrote nothing, so nothing can have been executed. Any other failure (a timeout
 * waiting for the answer, a socket reset or closed after the request was written, an answer
 * cut off before its status line) may follow an execution: its outcome is unknown.
 *
 * Told apart by where the error came from, not by its code: undici hands a connection's
 * error to the requests queued on it as the same object, so the connector that undici calls
 * for new connections remembers the errors it reported. A code list would have to guess
 * (`ECONNRESET` happens during a handshake and after a write alike).
 */
import { buildConnector } from 'undici';

export interface ConnectTracking {
  /** The `connect` option for undici's `Agent`/`Client`. */
  readonly connect: buildConnector.connector;
  /** True when `error` (or its `cause`) is a connection that failed to open: nothing was sent. */
  failedToConnect(error: unknown): boolean;
}

/** A connector (undici's own, built with `options`) that remembers the errors it reported. */
export function trackConnectFailures(options: buildConnector.BuildOptions): ConnectTracking {
  const connectErrors = new WeakSet<object>();
  const connect = buildConnector(options);
  return {
    connect: (opts, callback) =>
      connect(opts, (...args) => {
        const [error] = args;
        if (error) connectErrors.add(error);
        callback(...args);
      }),
    failedToConnect(error) {
      for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
        if (connectErrors.has(e)) return true;
        e = (e as { cause?: unknown }).cause;
      }
      return false;
    },
  };
}
