/**
 * Why a request never got an answer, as a stable reason and in words: fetch implementations
 * wrap the real reason (DNS, refused connection, TLS) a cause or two down behind "fetch
 * failed".
 */
import type { AcmeTransportReason } from './errors.js';

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const TIMEOUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
const TLS = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

interface Coded {
  readonly code?: unknown;
  readonly name?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly hostname?: unknown;
}

/** The innermost cause that names a code, else the innermost message. */
function innermost(error: unknown): Coded | undefined {
  let found: Coded | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const c = current as Coded;
    if (typeof c.code === 'string' || !found) found = c;
    current = c.cause;
  }
  return found;
}

/** What a failed request says about itself: a stable reason and a sentence. */
export interface TransportFailure {
  readonly reason: AcmeTransportReason;
  /**
   * "the name ca.example could not be resolved (DNS, ENOTFOUND)", "TLS: the server's
   * certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)", "connection refused
   * (ECONNREFUSED)", …
   */
  readonly text: string;
}

/** Classifies what a `fetch` threw. */
export function transportFailure(error: unknown): TransportFailure {
  const inner = innermost(error);
  const code = typeof inner?.code === 'string' ? inner.code : '';
  const message = typeof inner?.message === 'string' ? inner.message : String(error);
  if (DNS.has(code)) {
    const host = typeof inner?.hostname === 'string' ? `${inner.hostname} ` : '';
    return { reason: 'dns', text: `the name ${host}could not be resolved (DNS, ${code})` };
  }
  if (code === 'ECONNREFUSED') return { reason: 'refused', text: `connection refused (${code})` };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return { reason: 'reset', text: `the connection was closed by the other side (${code})` };
  if (TIMEOUT.has(code) || inner?.name === 'TimeoutError')
    return { reason: 'timeout', text: `no answer in time (${code || 'TimeoutError'})` };
  if (TLS.test(code)) return { reason: 'tls', text: `TLS: ${message} (${code})` };
  return { reason: 'network', text: code ? `${message} (${code})` : message };
}
