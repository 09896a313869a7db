/**
 * Single sign-on: OpenID Connect (authorization code + PKCE) and SAML 2.0 (SP-initiated,
 * HTTP-POST ACS). The IdP sends the browser back cross-site, so the return endpoints live under
 * `/sso/` (not `/api/`: no JSON CSRF check) and are protected instead by the single-use
 * state / InResponseTo, bound to the browser that started the sign-in by a `__Host-` cookie.
 *
 * The session cookie is SameSite=Strict: on the cross-site return it is neither sent nor would
 * the next redirect carry it, so the return answers a tiny HTML page that navigates on by
 * `<meta http-equiv="refresh">` — a same-site navigation, which carries the new cookie.
 *
 * The portal's 2FA stays (see service.ts): the IdP's MFA statement is OIDC `amr`/`acr` or
 * SAML AuthnContextClassRef.
 */
import { randomBytes } from 'node:crypto';
import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import { serveAll } from '../../server/route.ts';
import { sha256 } from '../../server/sessions.ts';
import type { UserRecord } from '../users/store.ts';
import {
  checkSsoOptions,
  firstValue,
  type OidcProviderConfig,
  type SamlProviderConfig,
  type SsoOptions,
  type SsoProviderConfig,
} from './config.ts';
import { ssoContract } from './contract.ts';
import { OidcRelyingParty } from './oidc.ts';
import { SamlServiceProvider } from './saml.ts';
import { recordRefusal, type SsoIdentity, signInWithIdentity } from './service.ts';
import { purgeExpiredFlows, startOidcFlow, takeOidcFlow } from './store.ts';

export type { SsoOptions } from './config.ts';

export const SSO_COOKIE = '__Host-fluxel_sso';

function bindingCookie(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === SSO_COOKIE && value && /^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return undefined;
}

/**
 * The browser binding of a sign-in: a random value in a cookie, its hash stored with the flow.
 * SameSite=None so it comes back on the IdP's cross-site POST (SAML) and GET (OIDC); it is no
 * credential, only proof that this browser started this flow (login CSRF).
 */
function bind(req: FastifyRequest, reply: FastifyReply, ttlMs: number): string {
  const value = bindingCookie(req) ?? randomBytes(32).toString('base64url');
  void reply.header(
    'set-cookie',
    `${SSO_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=${Math.ceil(ttlMs / 1000)}`,
  );
  return sha256(value);
}

const unbind = (reply: FastifyReply) =>
  reply.header('set-cookie', `${SSO_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0`);

/** An HTML page that navigates (same-site) to `to`; no script (CSP `script-src 'self'`). */
function navigate(reply: FastifyReply, status: number, to: string, text: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${to}"><title>Fluxel</title></head><body><p><a href="${to}">${text}</a></p></body></html>`,
    );
}

export function ssoRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: SsoOptions | undefined,
): void {
  const providers = options?.providers ?? [];
  if (options) checkSsoOptions(options);
  const ttlMs = options?.flowTtlMs ?? 10 * 60_000;
  const oidc = new Map<string, OidcRelyingParty>();
  const saml = new Map<string, SamlServiceProvider>();
  const callbackUrl = (p: OidcProviderConfig) => `${ctx.origin()}/sso/oidc/${p.id}/callback`;
  const acsUrl = (p: SamlProviderConfig) => `${ctx.origin()}/sso/saml/${p.id}/acs`;
  for (const p of providers) {
    if (p.kind === 'oidc') oidc.set(p.id, new OidcRelyingParty(p, () => callbackUrl(p)));
    else saml.set(p.id, new SamlServiceProvider(p, ctx, () => acsUrl(p), ttlMs));
  }
  app.addHook('onClose', async () => {
    for (const rp of oidc.values()) await rp.close();
  });

  /** A refused return: audited, the binding cleared, back to the login page. */
  async function refuse(
    req: FastifyRequest,
    reply: FastifyReply,
    p: SsoProviderConfig,
    reason: string,
    opts: { subject?: string; user?: UserRecord; status?: number } = {},
  ): Promise<FastifyReply> {
    await recordRefusal(ctx, req, p, reason, opts);
    void unbind(reply);
    return navigate(reply, opts.status ?? 401, '/login?sso=failed', 'Back to sign-in');
  }

  /** After a verified IdP answer: the account's session, or refused (403, audited). */
  async function complete(
    req: FastifyRequest,
    reply: FastifyReply,
    p: SsoProviderConfig,
    identity: SsoIdentity,
    mfaAsserted: boolean,
  ): Promise<FastifyReply> {
    const done = await signInWithIdentity(ctx, req, reply, p, identity, {
      asserted: mfaAsserted,
      trusted: options?.trustMfa === true,
    });
    void unbind(reply);
    if (!done.ok) return navigate(reply, 403, '/login?sso=failed', 'Back to sign-in');
    return navigate(reply, 200, '/', 'Continue');
  }

  serveAll(app, ctx, ssoContract, {
    providers: async () => ({
      providers: providers.map((p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        loginUrl: `/api/sso/${p.kind}/${p.id}/login`,
      })),
    }),
    oidcLogin: async ({ req, reply, params }) => {
      const rp = oidc.get(params.id);
      if (!rp) return fail(404, 'not_found', 'no such identity provider');
      let start: Awaited<ReturnType<OidcRelyingParty['start']>>;
      try {
        start = await rp.start();
      } catch (error) {
        req.log.warn({ err: { message: (error as Error).message } }, 'oidc discovery failed');
        return fail(502, 'upstream_unavailable', 'the identity provider is not reachable');
      }
      const binding = bind(req, reply, ttlMs);
      const now = ctx.now();
      await purgeExpiredFlows(ctx.db, now);
      await startOidcFlow(
        ctx.db,
        {
          stateHash: sha256(start.state),
          provider: rp.provider.id,
          bindingHash: binding,
          codeVerifier: start.codeVerifier,
          nonce: start.nonce,
          expiresAt: now + ttlMs,
        },
        now,
      );
      return reply.code(303).header('location', start.url.href).send();
    },
    samlLogin: async ({ req, reply, params }) => {
      const sp = saml.get(params.id);
      if (!sp) return fail(404, 'not_found', 'no such identity provider');
      const binding = bind(req, reply, ttlMs);
      await purgeExpiredFlows(ctx.db, ctx.now());
      const url = await sp.authorizeUrl(binding);
      return reply.code(303).header('location', url).send();
    },
    samlMetadata: async ({ reply, params }) => {
      const sp = saml.get(params.id);
      if (!sp) return fail(404, 'not_found', 'no such identity provider');
      return reply.type('application/samlmetadata+xml').send(
        generateServiceProviderMetadata({
          issuer: sp.provider.issuer,
          callbackUrl: acsUrl(sp.provider),
          wantAssertionsSigned: true,
        }),
      );
    },
  });
  // The IdP's returns exist only with providers configured.
  if (!options) return;

  // ------------------------------------------------------------ OpenID Connect

  app.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/sso/oidc/:id/callback',
    async (req, reply) => {
      const rp = oidc.get(req.params.id);
      if (!rp) return navigate(reply, 404, '/login?sso=failed', 'Back to sign-in');
      const p = rp.provider;
      const state = typeof req.query.state === 'string' ? req.query.state : '';
      // Single use: the flow row is gone after this, whatever the outcome.
      const flow = await takeOidcFlow(ctx.db, sha256(state), p.id);
      if (!flow || flow.expiresAt <= ctx.now())
        return refuse(req, reply, p, 'unknown, used or expired state');
      const cookie = bindingCookie(req);
      if (!cookie || sha256(cookie) !== flow.bindingHash)
        return refuse(req, reply, p, 'sign-in not started in this browser');
      if (typeof req.query.error === 'string')
        return refuse(req, reply, p, `idp error: ${req.query.error.slice(0, 80)}`);
      const search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      let result: Awaited<ReturnType<OidcRelyingParty['finish']>>;
      try {
        result = await rp.finish(new URL(`${callbackUrl(p)}${search}`), {
          state,
          nonce: flow.nonce,
          codeVerifier: flow.codeVerifier,
        });
      } catch (error) {
        return refuse(
          req,
          reply,
          p,
          `token or ID token check failed: ${String((error as Error).message).slice(0, 120)}`,
        );
      }
      const m = p.mapping;
      const email = firstValue(result.claims, m.emailClaim ?? 'email');
      const name = firstValue(result.claims, m.nameClaim ?? 'name');
      return complete(
        req,
        reply,
        p,
        {
          provider: p.id,
          subject: result.subject,
          email,
          emailVerified: result.claims.email_verified === true,
          name,
          claims: result.claims,
        },
        result.mfa,
      );
    },
  );

  // ------------------------------------------------------------ SAML 2.0

  // The ACS takes the IdP's form POST; the form parser exists only in this scope.
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 256 * 1024 },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );
    scope.post<{ Params: { id: string }; Body: Record<string, string> | undefined }>(
      '/sso/saml/:id/acs',
      async (req, reply) => {
        const sp = saml.get(req.params.id);
        if (!sp) return navigate(reply, 404, '/login?sso=failed', 'Back to sign-in');
        const p = sp.provider;
        const response = req.body?.SAMLResponse;
        if (typeof response !== 'string' || response.length === 0)
          return refuse(req, reply, p, 'no SAMLResponse', { status: 400 });
        // A replay is refused before anything else (the id is checked again, atomically, after
        // the signature is verified).
        const early = SamlServiceProvider.unverifiedAssertionId(response);
        if (early && (await sp.seen(early))) return refuse(req, reply, p, 'assertion replayed');
        const cookie = bindingCookie(req);
        let result: Awaited<ReturnType<SamlServiceProvider['validate']>>;
        try {
          result = await sp.validate(response, cookie ? sha256(cookie) : 'none');
        } catch (error) {
          return refuse(
            req,
            reply,
            p,
            `invalid response: ${String((error as Error).message).slice(0, 120)}`,
          );
        }
        if (!(await sp.consume(result.assertionId, result.assertionExpiresAt)))
          return refuse(req, reply, p, 'assertion replayed', { subject: result.subject });
        const m = p.mapping;
        const attrs = result.attributes;
        return complete(
          req,
          reply,
          p,
          {
            provider: p.id,
            subject: result.subject,
            email: firstValue(
              attrs,
              m.emailClaim ?? 'email',
              'mail',
              'urn:oid:0.9.2342.19200300.100.1.3',
            ),
            // The address is in the IdP's signed assertion; the operator chose to trust that IdP.
            emailVerified: true,
            name: firstValue(attrs, m.nameClaim ?? 'name', 'displayName'),
            claims: attrs,
          },
          result.mfa,
        );
      },
    );
  });
}
