/**
 * HTTP plumbing shared by every route: problem+json errors with stable codes, strict body
 * parsing, security headers, and the CSRF check (Origin / Sec-Fetch-Site plus a per-session
 * token) for every state-changing request.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ErrorCode, Problem } from '../shared/api.ts';

export class PortalProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly title: string,
    readonly extra: Partial<Pick<Problem, 'detail' | 'retryAfter' | 'fields'>> = {},
  ) {
    super(title);
    this.name = 'PortalProblem';
  }
}

export const fail = (
  status: number,
  code: ErrorCode,
  title: string,
  extra: Partial<Pick<Problem, 'detail' | 'retryAfter' | 'fields'>> = {},
): never => {
  throw new PortalProblem(status, code, title, extra);
};

/** Parses with a strict zod schema; a failure is a 400 `bad_request` naming the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  return fail(400, 'bad_request', 'the request is not valid', {
    fields: result.error.issues.slice(0, 20).map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    })),
  });
}

function sendProblem(reply: FastifyReply, problem: PortalProblem): void {
  if (problem.extra.retryAfter !== undefined)
    void reply.header('retry-after', String(Math.max(1, Math.ceil(problem.extra.retryAfter))));
  void reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: `https://fluxel.example/problems/${problem.code}`,
      title: problem.title,
      status: problem.status,
      code: problem.code,
      ...problem.extra,
    } satisfies Problem);
}

/** The Content-Security-Policy: no inline script or style, no framing, no plugins. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface HttpOptions {
  /** The portal's own origin (`https://host:port`); state changes from elsewhere are refused. */
  readonly origin: () => string;
  /** The CSRF token of the request's session, if any. */
  readonly csrfToken: (req: FastifyRequest) => Promise<string | undefined>;
  /** Extra headers for Vite's dev server (its HMR client needs a websocket and inline styles). */
  readonly devCsp?: string;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function installHttp(app: FastifyInstance, options: HttpOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    void reply.headers({
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'content-security-policy': options.devCsp ?? CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    if (!STATE_CHANGING.has(req.method) || !req.url.startsWith('/api/')) return;
    // 1. The request must come from our own pages.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin')
      return fail(403, 'csrf', 'cross-site request refused');
    const origin = req.headers.origin;
    if (origin !== options.origin()) return fail(403, 'csrf', 'cross-origin request refused');
    // 2. And carry the session's token (double submit through a header JS must set).
    const expected = await options.csrfToken(req);
    const presented = req.headers['x-csrf-token'];
    if (!expected || typeof presented !== 'string' || !constantEqual(presented, expected))
      return fail(403, 'csrf', 'missing or wrong CSRF token');
  });

  app.setErrorHandler((error: FastifyError | PortalProblem, req, reply) => {
    if (error instanceof PortalProblem) return sendProblem(reply, error);
    const status = (error as FastifyError).statusCode ?? 500;
    if (status === 413)
      return sendProblem(reply, new PortalProblem(413, 'bad_request', 'too large'));
    if (status >= 400 && status < 500)
      return sendProblem(
        reply,
        new PortalProblem(status, 'bad_request', 'the request could not be read'),
      );
    req.log.error({ err: { message: error.message, name: error.name } }, 'unexpected error');
    return sendProblem(reply, new PortalProblem(500, 'internal', 'something went wrong'));
  });
  app.setNotFoundHandler((req, reply) => {
    sendProblem(reply, new PortalProblem(404, 'not_found', `no route ${req.method} ${req.url}`));
  });
}

export function constantEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
