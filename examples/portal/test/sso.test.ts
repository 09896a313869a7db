/**
 * SSO over HTTP against the real local IdPs: OpenID Connect (`oidc-provider`, code + PKCE) and
 * SAML 2.0 (signed assertions). The portal's second factor stays unless the IdP asserts MFA and
 * the portal trusts it; state, InResponseTo and assertion ids work once; broken signatures,
 * foreign audiences, unverified e-mails and unmapped users are refused — and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../src/shared/api.ts';
import { code, type SignedUp, type TestClient } from './helpers.ts';
import { IDP_PASSWORD, OIDC_ID, SAML_ID, type SsoHarness, startSsoHarness } from './sso-harness.ts';

let s: SsoHarness;
let erika: SignedUp;

const oidcAccount = (sub: string, email: string, emailVerified = true) => ({
  sub,
  email,
  emailVerified,
  name: `Person ${sub}`,
  password: IDP_PASSWORD,
});

beforeAll(async () => {
  s = await startSsoHarness({
    trustMfa: true,
    mapping: {
      rules: [
        { emailDomain: 'acme.test', tenant: 'acme', role: 'customer' },
        { group: 'globex-keyusers', tenant: 'globex', role: 'key-user' },
      ],
    },
    oidcAccounts: [
      oidcAccount('oidc-erika', 'erika@acme.test'),
      oidcAccount('oidc-new', 'new@acme.test'),
      oidcAccount('oidc-unverified', 'uwe@acme.test', false),
      oidcAccount('oidc-stranger', 'stranger@elsewhere.test'),
      oidcAccount('oidc-admin', 'admin@fluxel.test'),
    ],
    samlUsers: [
      { nameId: 'saml-erika', email: 'erika@acme.test', name: 'Erika', password: IDP_PASSWORD },
      {
        nameId: 'saml-gina',
        email: 'gina@globex.test',
        name: 'Gina',
        password: IDP_PASSWORD,
        groups: ['globex-keyusers'],
      },
      { nameId: 'saml-stranger', email: 'who@nowhere.test', name: 'Who', password: IDP_PASSWORD },
    ],
  });
  await s.h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await s.h.portal.createTenant('globex', 'Globex AG', 'customer');
  erika = await s.h.signUp('erika@acme.test', 'customer', 'acme', 'Erika Mustermann');
  await s.h.signUp('uwe@acme.test', 'customer', 'acme', 'Uwe Unverified');
  await s.h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
});
afterAll(async () => s?.close());

async function events(action: string) {
  await s.h.portal.audit.log.flush?.();
  const all = [];
  for (const tenant of ['acme', 'globex', 'fluxel-operator'])
    all.push(...(await s.h.portal.audit.query({ tenant, action })).events);
  // Rows carry `reason` and `data` together as `details`.
  return (all as unknown as { outcome: string; details?: Record<string, unknown> }[]).map((e) => ({
    outcome: e.outcome,
    reason: typeof e.details?.reason === 'string' ? e.details.reason : undefined,
    data: e.details,
  }));
}

const path = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** Starts an OIDC sign-in in `c`, signs in at the IdP; returns the callback path. */
async function oidcRoundTrip(
  c: TestClient,
  email: string,
  mfa = false,
): Promise<{ callback: string }> {
  await c.session();
  const start = await c.get(`/api/sso/oidc/${OIDC_ID}/login`);
  expect(start.status).toBe(303);
  const location = String(start.headers.location);
  expect(location).toContain('code_challenge_method=S256');
  expect(location).toContain('nonce=');
  const back = await s.oidc.authorize(location, { email, password: IDP_PASSWORD, mfa });
  return { callback: path(back) };
}

describe('providers', () => {
  it('lists the configured IdPs without a session', async () => {
    const res = await s.h
      .client()
      .get<{ providers: { id: string; name: string }[] }>('/api/sso/providers');
    expect(res.status).toBe(200);
    expect(res.body.providers.map((p) => p.id)).toEqual([OIDC_ID, SAML_ID]);
  });
});

describe('OpenID Connect', () => {
  it('without MFA at the IdP: a new session that still needs the portal second factor', async () => {
    const c = s.h.client();
    const { callback } = await oidcRoundTrip(c, 'erika@acme.test');
    const res = await c.get(callback);
    expect(res.status).toBe(200);
    expect(res.text).toContain('http-equiv="refresh"');
    expect(String(res.headers['set-cookie'])).toContain('__Host-fluxel_session=');
    const info = await c.session();
    expect(info.stage).toBe('password');
    s.h.clock.offsetMs += 30_000;
    const done = await c.post<SessionInfo>('/api/auth/second-factor', {
      method: 'totp',
      code: code(s.h, erika.secret),
    });
    expect(done.status).toBe(200);
    expect(done.body.stage).toBe('full');
    const sso = (await events('auth.sso')).filter((e) => e.outcome === 'success');
    expect(sso.at(-1)?.data).toMatchObject({ provider: OIDC_ID, mfaAsserted: 'no' });
  });

  it('with MFA asserted (amr) and trusted: a full session at once', async () => {
    const c = s.h.client();
    const { callback } = await oidcRoundTrip(c, 'erika@acme.test', true);
    expect((await c.get(callback)).status).toBe(200);
    const info = await c.session();
    expect(info.stage).toBe('full');
    expect(info.user?.email).toBe('erika@acme.test');
    const sso = await events('auth.sso');
    expect(sso.some((e) => e.data?.mfaAsserted === 'yes' && e.data.next === 'signed-in')).toBe(
      true,
    );
  });

  it('the callback works once and only in the browser that started the sign-in', async () => {
    const c = s.h.client();
    const { callback } = await oidcRoundTrip(c, 'erika@acme.test', true);
    // Another browser (no binding cookie) presenting the victim's/attacker's callback: refused.
    const other = s.h.client();
    const stolen = await other.get(callback);
    expect(stolen.status).toBe(401);
    expect((await other.session()).stage).toBe('anonymous');
    // The state was consumed by that attempt: the original browser cannot use it either.
    const again = await c.get(callback);
    expect(again.status).toBe(401);
    const reasons = (await events('auth.sso')).map((e) => e.reason);
    expect(reasons).toContain('sign-in not started in this browser');
    expect(reasons).toContain('unknown, used or expired state');
  });

  it('a forged state or code is refused', async () => {
    const c = s.h.client();
    const { callback } = await oidcRoundTrip(c, 'erika@acme.test');
    const forgedCode = callback.replace(/code=[^&]+/, 'code=forged');
    expect((await c.get(forgedCode)).status).toBe(401);
    expect((await c.session()).stage).toBe('anonymous');
  });

  it('provisions an unknown user by a mapping rule (customer, must enrol a factor)', async () => {
    const c = s.h.client();
    const { callback } = await oidcRoundTrip(c, 'new@acme.test', true);
    expect((await c.get(callback)).status).toBe(200);
    const info = await c.session();
    // MFA at the IdP is trusted, so the session is full — but the role comes from the rule.
    expect(info.stage).toBe('full');
    expect(info.user?.role).toBe('customer');
    expect(info.user?.tenant.id).toBe('acme');
    const signup = await events('user.signup');
    expect(signup.some((e) => e.data?.via === 'sso')).toBe(true);
  });

  it('refuses linking by an unverified e-mail, unmapped users and administrators', async () => {
    for (const email of ['uwe@acme.test', 'stranger@elsewhere.test', 'admin@fluxel.test']) {
      const c = s.h.client();
      const { callback } = await oidcRoundTrip(c, email, true);
      const res = await c.get(callback);
      expect(res.status, email).toBe(403);
      expect((await c.session()).stage).toBe('anonymous');
    }
    const reasons = (await events('auth.sso')).filter((e) => e.outcome === 'denied');
    expect(reasons.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['e-mail not verified', 'no mapping', 'no mapping for the account']),
    );
  });
});

describe('SAML 2.0', () => {
  async function samlStart(c: TestClient): Promise<string> {
    await c.session();
    const start = await c.get(`/api/sso/saml/${SAML_ID}/login`);
    expect(start.status).toBe(303);
    const location = String(start.headers.location);
    expect(location.startsWith(s.saml.ssoUrl)).toBe(true);
    return s.saml.requestIdOf(location);
  }

  const post = (c: TestClient, response: string) =>
    c.call(
      'POST',
      `/sso/saml/${SAML_ID}/acs`,
      new URLSearchParams({ SAMLResponse: response }).toString(),
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        origin: new URL(s.saml.ssoUrl).origin,
        csrf: false,
      },
    );

  const erikaSaml = {
    nameId: 'saml-erika',
    email: 'erika@acme.test',
    name: 'Erika',
    password: IDP_PASSWORD,
  };

  it('signs in with a signed assertion (second factor still required) and refuses its replay', async () => {
    const c = s.h.client();
    const requestId = await samlStart(c);
    const response = s.saml.response({ requestId, user: erikaSaml });
    const first = await post(c, response);
    expect(first.status).toBe(200);
    expect((await c.session()).stage).toBe('password');
    // The same SAMLResponse again (say, from the browser history or an eavesdropper).
    const replay = await post(c, response);
    expect(replay.status).toBe(401);
    const sso = await events('auth.sso');
    expect(sso.some((e) => e.outcome === 'failure' && e.reason === 'assertion replayed')).toBe(
      true,
    );
  });

  it('MFA in the AuthnContextClassRef is trusted: full session; groups map to a tenant', async () => {
    const c = s.h.client();
    const requestId = await samlStart(c);
    const gina = {
      nameId: 'saml-gina',
      email: 'gina@globex.test',
      name: 'Gina',
      password: IDP_PASSWORD,
      groups: ['globex-keyusers'],
    };
    expect((await post(c, s.saml.response({ requestId, user: gina, mfa: true }))).status).toBe(200);
    const info = await c.session();
    expect(info.stage).toBe('full');
    expect(info.user?.role).toBe('key-user');
    expect(info.user?.tenant.id).toBe('globex');
  });

  it('refuses a tampered assertion, a foreign audience, a wrong recipient and an unknown request', async () => {
    const cases = [
      { tamper: true },
      { audience: 'https://someone-else.test/saml' },
      { acsUrl: 'https://evil.test/acs' },
      { requestId: '_not-issued-by-us' },
      { shiftMs: -3_600_000 },
    ];
    for (const extra of cases) {
      const c = s.h.client();
      const requestId = await samlStart(c);
      const res = await post(c, s.saml.response({ requestId, user: erikaSaml, ...extra }));
      expect(res.status, JSON.stringify(extra)).toBe(401);
      expect((await c.session()).stage).toBe('anonymous');
    }
    const reasons = (await events('auth.sso')).map((e) => e.reason ?? '');
    expect(reasons.some((r) => r.includes('Invalid signature'))).toBe(true);
  });

  it('refuses a response from another browser (no binding) and an unmapped user', async () => {
    const c = s.h.client();
    const requestId = await samlStart(c);
    const other = s.h.client();
    expect((await post(other, s.saml.response({ requestId, user: erikaSaml }))).status).toBe(401);

    const d = s.h.client();
    const id2 = await samlStart(d);
    const stranger = {
      nameId: 'saml-stranger',
      email: 'who@nowhere.test',
      name: 'Who',
      password: IDP_PASSWORD,
    };
    expect((await post(d, s.saml.response({ requestId: id2, user: stranger }))).status).toBe(403);
    expect((await d.session()).stage).toBe('anonymous');
  });

  it('serves SP metadata', async () => {
    const res = await s.h.client().get(`/api/sso/saml/${SAML_ID}/metadata`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`/sso/saml/${SAML_ID}/acs`);
  });
});

describe('without trustMfa', () => {
  let u: SsoHarness;
  let ulla: SignedUp;
  beforeAll(async () => {
    u = await startSsoHarness({
      trustMfa: false,
      mapping: { rules: [{ emailDomain: 'acme.test', tenant: 'acme', role: 'customer' }] },
      oidcAccounts: [oidcAccount('oidc-ulla', 'ulla@acme.test')],
      samlUsers: [],
    });
    await u.h.portal.createTenant('acme', 'Acme GmbH', 'customer');
    ulla = await u.h.signUp('ulla@acme.test', 'customer', 'acme', 'Ulla');
  });
  afterAll(async () => u?.close());

  it('an MFA-asserting IdP still leaves the portal second factor to do', async () => {
    const c = u.h.client();
    await c.session();
    const start = await c.get(`/api/sso/oidc/${OIDC_ID}/login`);
    const back = await u.oidc.authorize(String(start.headers.location), {
      email: 'ulla@acme.test',
      password: IDP_PASSWORD,
      mfa: true,
    });
    expect((await c.get(path(back))).status).toBe(200);
    expect((await c.session()).stage).toBe('password');
    expect(ulla.userId).toMatch(/^usr_/);
  });
});
