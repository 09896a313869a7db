/**
 * A minimal local SAML 2.0 identity provider for tests and `pnpm dev`: takes an AuthnRequest
 * (HTTP-Redirect binding) from the registered SP, shows a sign-in form, and answers with an
 * HTTP-POST form carrying a SAMLResponse whose assertion is signed (RSA-SHA256, key and
 * certificate made by openssl). `response()` builds such responses directly — also broken ones
 * (tampered, wrong audience/recipient, expired) for the negative tests.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { signSamlPost } from '@node-saml/node-saml/lib/saml-post-signing.js';

export interface SamlTestUser {
  readonly nameId: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
  readonly groups?: readonly string[];
}

export interface SamlResponseInput {
  readonly requestId: string | undefined;
  readonly user: SamlTestUser;
  readonly mfa?: boolean;
  readonly acsUrl?: string;
  readonly audience?: string;
  /** Flip a character of the signed e-mail after signing. */
  readonly tamper?: boolean;
  /** Shift every timestamp (ms), e.g. −1 h for an expired assertion. */
  readonly shiftMs?: number;
}

export interface LocalSamlIdp {
  readonly entityId: string;
  /** Single sign-on URL (HTTP-Redirect). */
  readonly ssoUrl: string;
  /** PEM certificate the SP must trust. */
  readonly cert: string;
  registerSp(sp: { entityId: string; acsUrl: string }): void;
  /** The ID of the AuthnRequest in an SP redirect URL. */
  requestIdOf(redirectUrl: string): string;
  /** A base64 SAMLResponse with a signed assertion. */
  response(input: SamlResponseInput): string;
  close(): Promise<void>;
}

const MFA_CLASS = 'urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor';
const PASSWORD_CLASS = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const ASSERTION_XPATH = "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const newId = () => `_${randomBytes(16).toString('hex')}`;

function keyPair(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-saml-idp-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'idp.key',
        '-out',
        'idp.pem',
      ].concat(['-days', '30', '-subj', '/CN=Fluxel local SAML IdP']),
      { cwd: dir, stdio: 'pipe' },
    );
    return {
      key: readFileSync(join(dir, 'idp.key'), 'utf8'),
      cert: readFileSync(join(dir, 'idp.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseRequest(samlRequest: string): { id: string; issuer: string; acs: string } {
  const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  const id = /<(?:\w+:)?AuthnRequest\b[^>]*\sID="([^"]+)"/.exec(xml)?.[1];
  const acs = /\sAssertionConsumerServiceURL="([^"]+)"/.exec(xml)?.[1];
  const issuer = /<(?:\w+:)?Issuer\b[^>]*>([^<]+)</.exec(xml)?.[1];
  if (!id || !issuer) throw new Error('not an AuthnRequest');
  return { id, issuer, acs: acs ?? '' };
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startSamlIdp(options: {
  readonly tls: { readonly cert: string; readonly key: string };
  readonly users: readonly SamlTestUser[];
  readonly port?: number;
}): Promise<LocalSamlIdp> {
  const signing = keyPair();
  let sp: { entityId: string; acsUrl: string } | undefined;
  const pending = new Map<string, { id: string; relayState: string }>();
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String((error as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const base = `https://localhost:${(server.address() as AddressInfo).port}`;
  const entityId = `${base}/saml/metadata`;

  function response(input: SamlResponseInput): string {
    if (!sp) throw new Error('no SP registered');
    const t = Date.now() + (input.shiftMs ?? 0);
    const iso = (ms: number) => new Date(t + ms).toISOString();
    const acs = input.acsUrl ?? sp.acsUrl;
    const irt = input.requestId ? ` InResponseTo="${esc(input.requestId)}"` : '';
    const u = input.user;
    const attr = (name: string, vals: readonly string[]) =>
      `<saml:Attribute Name="${name}">${vals
        .map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`)
        .join('')}</saml:Attribute>`;
    const xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(0)}" Destination="${esc(acs)}"${irt}>` +
      `<saml:Issuer>${esc(entityId)}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(0)}">` +
      `<saml:Issuer>${esc(entityId)}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${esc(u.nameId)}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${irt} NotOnOrAfter="${iso(5 * 60_000)}" Recipient="${esc(acs)}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${iso(-60_000)}" NotOnOrAfter="${iso(5 * 60_000)}"><saml:AudienceRestriction><saml:Audience>${esc(input.audience ?? sp.entityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(0)}" SessionIndex="${newId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${input.mfa ? MFA_CLASS : PASSWORD_CLASS}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `<saml:AttributeStatement>${attr('email', [u.email])}${attr('displayName', [u.name])}${u.groups ? attr('groups', u.groups) : ''}</saml:AttributeStatement>` +
      '</saml:Assertion></samlp:Response>';
    let signed = signSamlPost(xml, ASSERTION_XPATH, {
      privateKey: signing.key,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
    if (input.tamper) signed = signed.replace(`>${esc(u.email)}<`, `>x${esc(u.email)}<`);
    return Buffer.from(signed, 'utf8').toString('base64');
  }

  function loginPage(handle: string, error?: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local SAML IdP</title></head>
<body><h1>Local SAML identity provider</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/saml/login"><input type="hidden" name="handle" value="${esc(handle)}">
<label>E-mail <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<label><input name="mfa" type="checkbox" value="1"> I used a second factor</label>
<button type="submit" data-testid="saml-idp-submit">Sign in</button></form></body></html>`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    res.setHeader('cache-control', 'no-store');
    if (url.pathname === '/saml/sso' && req.method === 'GET') {
      const request = parseRequest(url.searchParams.get('SAMLRequest') ?? '');
      if (!sp || request.issuer !== sp.entityId || (request.acs && request.acs !== sp.acsUrl)) {
        res.statusCode = 400;
        res.end('unknown service provider');
        return;
      }
      const handle = randomBytes(16).toString('hex');
      pending.set(handle, { id: request.id, relayState: url.searchParams.get('RelayState') ?? '' });
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(loginPage(handle));
      return;
    }
    if (url.pathname === '/saml/login' && req.method === 'POST') {
      const form = await formBody(req);
      const handle = form.get('handle') ?? '';
      const request = pending.get(handle);
      const user = options.users.find(
        (u) => u.email === form.get('email') && u.password === form.get('password'),
      );
      if (!request || !user || !sp) {
        res.statusCode = 401;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(loginPage(handle, 'Unknown e-mail or wrong password.'));
        return;
      }
      pending.delete(handle);
      const saml = response({ requestId: request.id, user, mfa: form.get('mfa') === '1' });
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local SAML IdP</title>
<script src="/saml/post.js" defer></script></head><body>
<form method="post" action="${esc(sp.acsUrl)}" id="post"><input type="hidden" name="SAMLResponse" value="${esc(saml)}">${
        request.relayState
          ? `<input type="hidden" name="RelayState" value="${esc(request.relayState)}">`
          : ''
      }<button type="submit" data-testid="saml-idp-continue">Continue</button></form></body></html>`);
      return;
    }
    if (url.pathname === '/saml/post.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end("document.getElementById('post').submit();\n");
      return;
    }
    res.statusCode = 404;
    res.end();
  }

  return {
    entityId,
    ssoUrl: `${base}/saml/sso`,
    cert: signing.cert,
    registerSp(value) {
      sp = value;
    },
    requestIdOf(redirectUrl) {
      return parseRequest(new URL(redirectUrl).searchParams.get('SAMLRequest') ?? '').id;
    },
    response,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
