/**
 * The relay's HTTP edge, shared by its routes: the HTTPS server with its security headers,
 * raw-JSON body handling and problem answers (RFC 9457, `application/problem+json`);
 * request parsing against zod schemas; license errors as problems; rate limits. No SQL here:
 * the routes call stores and use cases, and this module turns their results and errors into
 * HTTP.
 */
import { CryptoError } from '@fluxel/crypto';
import {
  type AuthorityRequest,
  dpopChallenge,
  dpopChallengeError,
  LicenseError,
  type VerifiedRequest,
} from '@fluxel/license';
import type { RateLimiter } from '@fluxel-example/kit/rate-limit';
import { TLS_SERVER_POLICY } from '@fluxel-example/kit/tls';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HttpProblem, type ProblemExtra } from './problem.ts';
import { WebhookSecretInvalidError } from './webhooks.ts';

export interface HttpServerOptions {
  readonly key: string;
  readonly cert: string;
  /** Largest request body in bytes; default 256 KiB. */
  readonly bodyLimit?: number | undefined;
  /** Fastify logger (never logs bodies or auth headers). Default false. */
  readonly logger?: boolean | undefined;
  /** True once the relay is shutting down: answers then end their connection. */
  readonly closing: () => boolean;
  /** Fastify `trustProxy`: the checked list of trusted proxies, or false (`trustedProxies()`). */
  readonly trustProxy?: string[] | false;
}

/**
 * The relay's HTTPS server: bodies kept raw (a Buffer; DPoP binds the exact bytes, routes
 * parse them), security headers on every answer, every error a problem document.
 */
export function createHttpServer(options: HttpServerOptions) {
  const app = Fastify({
    https: { key: options.key, cert: options.cert, ...TLS_SERVER_POLICY },
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    logger: options.logger ?? false,
    requestTimeout: 60_000,
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('strict-transport-security', 'max-age=31536000');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    // While shutting down, answers end their connection, so close() does not wait on
    // keep-alive connections that would otherwise stay open until their idle timeout.
    if (options.closing()) reply.header('connection', 'close');
    return payload;
  });
  app.setErrorHandler((error: { code?: string; statusCode?: number }, req, reply) => {
    if (error instanceof HttpProblem)
      return sendProblem(req, reply, error.status, error.title, error.extra);
    if (error instanceof WebhookSecretInvalidError)
      return sendProblem(req, reply, 400, error.message, {
        code: error.code,
        detail: error.detail,
      });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendProblem(req, reply, 413, 'request body too large');
    // The tenant was crypto-shredded: its data exists no more in readable form.
    if (CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_KEY_DESTROYED')
      return sendProblem(req, reply, 410, "the tenant's data was erased", {
        code: 'ERR_TENANT_ERASED',
      });
    // The KEK (a KMS key) cannot be reached: nothing is wrong with the request and nothing was
    // stored or sent, so a retry can succeed (a 500 would read as final).
    if (CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_KEK_UNAVAILABLE') {
      req.log.warn({ code: error.code }, 'key service unavailable');
      reply.header('retry-after', '1');
      return sendProblem(req, reply, 503, 'key service unavailable, try again', {
        retryable: true,
        retryAfter: 1,
      });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(req, reply, 415, 'unsupported media type; send application/json');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
      return sendProblem(req, reply, error.statusCode === 404 ? 404 : 400, 'bad request');
    req.log.error({ code: error.code }, 'unexpected error');
    return sendProblem(req, reply, 500, 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendProblem(req, reply, 404, 'not found'));
  return app;
}

/** The relay's HTTPS server. */
export type RelayHttpServer = ReturnType<typeof createHttpServer>;

function sendProblem(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  extra: ProblemExtra = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, traceId: req.id, ...extra });
}

/** A request header's (first) value. */
export function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host part of the default URL: loopback for a wildcard bind, brackets for IPv6. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A 400 naming where the request does not match the contract (at most five issues). */
export function invalid(where: string, error: z.ZodError): HttpProblem {
  return new HttpProblem(400, 'request does not match the contract', {
    code: 'ERR_VALIDATION',
    detail: error.issues
      .slice(0, 5)
      .map((i) => `${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.code}`)
      .join('; '),
  });
}

/** `value` parsed by `schema` (undefined without a schema); a 400 when it does not match. */
export function parse<T extends z.ZodType | undefined>(
  schema: T,
  value: unknown,
  where: string,
): T extends z.ZodType ? z.output<T> : undefined {
  if (!schema) return undefined as never;
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(where, result.error);
  return result.data as never;
}

/** A raw body as JSON (undefined when empty); a 400 when it is not JSON. */
export function parseJsonBody(raw: Uint8Array | undefined): unknown {
  if (!raw?.length) return undefined;
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'body is not JSON', { code: 'ERR_VALIDATION' });
  }
}

/** What the license authority checks of a request (DPoP binds method, URL and body). */
export function authorityRequest(
  baseUrl: string,
  req: FastifyRequest,
  raw: Uint8Array | undefined,
): AuthorityRequest {
  return {
    method: req.method,
    url: `${baseUrl}${req.url}`,
    headers: req.headers as Record<string, string>,
    body: raw,
    // Recorded as the license's last IP (shown to its owner); req.ip honours trustProxy.
    clientIp: req.ip,
  };
}

/** The audit actor of a verified device request. */
export function deviceActor(verified: VerifiedRequest, req: FastifyRequest) {
  return { type: 'device' as const, id: verified.proof.jkt, ip: req.ip };
}

const FORBIDDEN_CODES = new Set([
  'ERR_LICENSE_ACTIVATION_FAILED',
  'ERR_LICENSE_LOCKED',
  'ERR_LICENSE_EXPIRED',
  'ERR_LICENSE_NOT_ACTIVE',
  'ERR_LICENSE_ENTITLEMENT',
]);

/**
 * A {@link LicenseError} of activation, refresh or request verification as a problem (other
 * errors, and a runtime without the needed crypto, are rethrown), with the headers it needs: `WWW-Authenticate` on a 401 (a nonce
 * challenge when one is required), `Retry-After` on a 503.
 */
export function licenseProblem(error: unknown, reply: FastifyReply): HttpProblem {
  // A runtime without the crypto the relay needs is the relay's fault, not the request's: 500.
  if (!LicenseError.isInstance(error) || error.code === 'ERR_LICENSE_UNSUPPORTED_RUNTIME')
    throw error;
  const code = error.code;
  if (code === 'ERR_DPOP_NONCE_REQUIRED') {
    reply.header('www-authenticate', dpopChallenge({ error: 'use_dpop_nonce' }));
    return new HttpProblem(401, 'nonce required', { code });
  }
  // The database or Redis failed while checking the request: nothing is wrong with the
  // proof, so a retry can succeed (a 401 would make clients drop the message for good).
  // So is a replay cache that lost its entries refusing older proofs for a few seconds
  // (`retryAfterSeconds`): a new proof then succeeds.
  if (code === 'ERR_LICENSE_STORAGE') {
    const seconds = error.retryAfterSeconds ?? 1;
    reply.header('retry-after', String(seconds));
    return new HttpProblem(503, 'storage unavailable, try again', {
      code,
      retryable: true,
      retryAfter: seconds,
    });
  }
  const status = FORBIDDEN_CODES.has(code) ? 403 : 401;
  if (status === 401)
    reply.header('www-authenticate', dpopChallenge({ error: dpopChallengeError(error) }));
  return new HttpProblem(status, error.message, { code });
}

/**
 * Counts `cost` requests (default 1) against `key`'s window; a 429 with `Retry-After` past
 * `max`, a retryable 503 when the counters' store is unreachable. Nothing without a limiter.
 */
export async function rateLimit(
  limiter: RateLimiter | undefined,
  key: string,
  max: number,
  reply: FastifyReply,
  cost = 1,
): Promise<void> {
  if (!limiter) return;
  let decision: Awaited<ReturnType<RateLimiter['hit']>>;
  try {
    decision = await limiter.hit(key, max, cost);
  } catch (error) {
    // The counters' store (Redis) is down or unreachable: nothing is wrong with the request,
    // so answer a retryable 503 rather than a 500 that clients would treat as final.
    reply.log.warn({ code: (error as { code?: string }).code }, 'rate limiter unavailable');
    reply.header('retry-after', '1');
    throw new HttpProblem(503, 'rate limiter unavailable, try again', {
      code: 'ERR_RATE_LIMIT_STORAGE',
      retryable: true,
      retryAfter: 1,
    });
  }
  const { ok, retryAfter } = decision;
  if (ok) return;
  reply.header('retry-after', String(retryAfter));
  throw new HttpProblem(429, 'too many requests', {
    code: 'ERR_RATE_LIMITED',
    retryable: true,
    retryAfter,
  });
}
