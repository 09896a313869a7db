/**
 * The CSRF token of a visitor who is not signed in yet: a random value in a `__Host-` cookie
 * (the JSON API's double submit), so the sign-in form itself is protected. A session carries
 * its own token from then on.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CSRF_COOKIE = '__Host-fluxel_csrf';

/** The anonymous CSRF token the request's cookie carries, if well-formed. */
export function anonymousCsrf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === CSRF_COOKIE && value && /^[A-Za-z0-9_-]{32}$/.test(value)) return value;
  }
  return undefined;
}

/** The request's anonymous CSRF token, or a new one set as a cookie on `reply`. */
export function ensureAnonymousCsrf(req: FastifyRequest, reply: FastifyReply): string {
  const known = anonymousCsrf(req);
  if (known) return known;
  const csrf = randomBytes(24).toString('base64url');
  void reply.header(
    'set-cookie',
    `${CSRF_COOKIE}=${csrf}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600`,
  );
  return csrf;
}
