/**
 * A real local OpenID provider for tests and `pnpm dev`: `oidc-provider` in-process over HTTPS,
 * with a tiny sign-in page of its own (no consent step: the test client's grant is implicit).
 * The page has an "I used a second factor" box, which puts `otp`/`mfa` into the session's `amr`
 * — so both an MFA-asserting and a plain sign-in can be driven, in the browser or by `authorize`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { Agent, request } from 'undici';

export interface OidcTestAccount {
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string;
  readonly password: string;
  readonly groups?: readonly string[];
}

export interface OidcTestClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
}

export interface LocalOidcProvider {
  readonly issuer: string;
  /** Registers the client(s) once the relying party's URL is known (before the first sign-in). */
  configure(clients: readonly OidcTestClient[]): void;
  /**
   * Drives a sign-in without a browser: from the authorization URL to the URL the IdP sends the
   * browser back to (the RP's callback with `code` and `state`), not fetched.
   */
  authorize(
    url: string,
    login: { email: string; password: string; mfa?: boolean },
  ): Promise<string>;
  close(): Promise<void>;
}

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(uid: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local IdP</title></head>
<body><h1>Local OpenID provider</h1>${error ? `<p role="alert">${html(error)}</p>` : ''}
<form method="post" action="/interaction/${html(uid)}/login">
<label>E-mail <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<label><input name="mfa" type="checkbox" value="1"> I used a second factor</label>
<button type="submit" data-testid="idp-submit">Sign in</button>
</form></body></html>`;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startOidcProvider(options: {
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string };
  readonly accounts: readonly OidcTestAccount[];
  readonly port?: number;
}): Promise<LocalOidcProvider> {
  let provider: Provider | undefined;
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String((error as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  const byEmail = (email: string) =>
    options.accounts.find((a) => a.email.toLowerCase() === email.trim().toLowerCase());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!provider) {
      res.statusCode = 503;
      res.end('not configured');
      return;
    }
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(url.pathname);
    if (!m) return provider.callback()(req, res);
    const details = await provider.interactionDetails(req, res);
    res.setHeader('cache-control', 'no-store');
    if (!m[2] && req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page(details.uid));
      return;
    }
    if (m[2] && req.method === 'POST') {
      const form = await formBody(req);
      const account = byEmail(form.get('email') ?? '');
      if (!account || account.password !== form.get('password')) {
        res.statusCode = 401;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(page(details.uid, 'Unknown e-mail or wrong password.'));
        return;
      }
      const mfa = form.get('mfa') === '1';
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.sub, amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'] } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    res.statusCode = 405;
    res.end();
  }

  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const dispatcher = new Agent({ connect: { ca: options.tls.ca } });

  return {
    issuer,
    configure(clients) {
      provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          redirect_uris: [...c.redirectUris],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        })),
        jwks: { keys: [{ ...signingKey, kid: 'local-idp', use: 'sig', alg: 'RS256' }] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        claims: {
          acr: null,
          amr: null,
          auth_time: null,
          sid: null,
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['name', 'groups'],
        },
        features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
        interactions: {
          url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
        },
        pkce: { required: () => true },
        async findAccount(_ctx: unknown, sub: string) {
          const account = options.accounts.find((a) => a.sub === sub);
          if (!account) return undefined;
          return {
            accountId: sub,
            async claims() {
              return {
                sub,
                email: account.email,
                email_verified: account.emailVerified,
                name: account.name,
                ...(account.groups ? { groups: [...account.groups] } : {}),
              };
            },
          };
        },
        // The local IdP asks no consent: every client gets the standard scopes.
        async loadExistingGrant(ctx: {
          oidc: {
            client: { clientId: string };
            session: { accountId: string; grantIdFor(clientId: string): string | undefined };
          };
        }) {
          const p = provider as Provider;
          const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
          if (existing) {
            const found = await p.Grant.find(existing);
            if (found) return found;
          }
          const grant = new p.Grant({
            clientId: ctx.oidc.client.clientId,
            accountId: ctx.oidc.session.accountId,
          });
          grant.addOIDCScope('openid email profile');
          await grant.save();
          return grant;
        },
      });
    },
    async authorize(start, login) {
      const jar = new Map<string, string>();
      const step = async (
        url: string,
        method: 'GET' | 'POST' = 'GET',
        body?: string,
      ): Promise<{ status: number; location: string | undefined }> => {
        const res = await request(url, {
          method,
          dispatcher,
          headers: {
            ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(body ? { body } : {}),
        });
        const set = res.headers['set-cookie'];
        for (const c of Array.isArray(set) ? set : set ? [set] : []) {
          const [pair] = c.split(';');
          const i = (pair ?? '').indexOf('=');
          if (i > 0) jar.set((pair as string).slice(0, i), (pair as string).slice(i + 1));
        }
        await res.body.text();
        const location = res.headers.location;
        return {
          status: res.statusCode,
          location: typeof location === 'string' ? new URL(location, url).href : undefined,
        };
      };
      let next = await step(start);
      const interaction = next.location;
      if (!interaction?.includes('/interaction/')) throw new Error('no interaction');
      next = await step(
        `${interaction}/login`,
        'POST',
        new URLSearchParams({
          email: login.email,
          password: login.password,
          ...(login.mfa ? { mfa: '1' } : {}),
        }).toString(),
      );
      for (let i = 0; i < 5 && next.location?.startsWith(issuer); i++)
        next = await step(next.location);
      if (!next.location) throw new Error(`the IdP did not redirect back (${next.status})`);
      return next.location;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await dispatcher.close();
    },
  };
}
