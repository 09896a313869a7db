import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import type { PrivateJwk } from '../src/jwk.ts';
import { createTokenIssuer, type TokenSubject } from '../src/lib/token-issuer.ts';
import { createTokenVerifier } from '../src/lib/token-verify.ts';
import { generateKeyPair } from '../src/sig.ts';

const subject: TokenSubject = {
  sub: 'lic-1',
  tid: 'tenant-a',
  prd: 'wawi-sync',
  ent: ['orders', 'payments'],
  lexp: null,
  cnf: { jkt: 'device-thumbprint' },
};

async function authority(alg: 'EdDSA' | 'ES256' = 'EdDSA', now?: () => number) {
  const { privateJwk } = await generateKeyPair(alg);
  const issuer = createTokenIssuer({
    issuer: 'https://relay.test',
    keys: [{ kid: 'k1', privateJwk }],
    ...(now ? { now } : {}),
  });
  const verifier = createTokenVerifier({
    issuer: 'https://relay.test',
    jwks: issuer.jwks(),
    ...(now ? { now } : {}),
  });
  return { issuer, verifier, privateJwk };
}

describe('license and access tokens', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`issue and verify (${alg}), and jose agrees`, async () => {
      const { issuer, verifier } = await authority(alg);
      const { token, expiresAt } = await issuer.issueAccessToken(subject, 900);
      const claims = await verifier.verifyAccessToken(token, {
        jkt: 'device-thumbprint',
        entitlements: ['orders'],
      });
      expect(claims).toMatchObject({ ...subject, iss: 'https://relay.test', exp: expiresAt });
      const jwks = jose.createLocalJWKSet(issuer.jwks() as unknown as jose.JSONWebKeySet);
      const viaJose = await jose.jwtVerify(token, jwks, {
        issuer: 'https://relay.test',
        typ: 'fluxel-at+jwt',
      });
      expect(viaJose.payload.sub).toBe('lic-1');
    });
  }

  it('the lifetime never outlasts the license', async () => {
    const now = Date.now();
    const { issuer, verifier } = await authority('EdDSA', () => now);
    const lexp = Math.floor(now / 1000) + 60;
    const { token, expiresAt } = await issuer.issueLicenseToken({ ...subject, lexp }, 30 * 86_400);
    expect(expiresAt).toBe(lexp);
    expect((await verifier.verifyLicenseToken(token)).exp).toBe(lexp);
  });

  it('offline check: expiry, binding, entitlements', async () => {
    let clock = Date.now();
    const { issuer, verifier } = await authority('EdDSA', () => clock);
    const { token } = await issuer.issueLicenseToken(subject, 3600);
    await expect(
      verifier.verifyLicenseToken(token, { jkt: 'another-device' }),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_TOKEN_BINDING' });
    await expect(
      verifier.verifyLicenseToken(token, { entitlements: ['invoices'] }),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_ENTITLEMENT' });
    await expect(verifier.verifyLicenseToken(token)).resolves.toMatchObject({ sub: 'lic-1' });
    clock += 3600_000 + 31_000;
    await expect(verifier.verifyLicenseToken(token)).rejects.toMatchObject({
      code: 'ERR_LICENSE_TOKEN_EXPIRED',
    });
  });

  it('an access token is not a license token and vice versa', async () => {
    const { issuer, verifier } = await authority();
    const access = await issuer.issueAccessToken(subject, 60);
    const license = await issuer.issueLicenseToken(subject, 60);
    await expect(verifier.verifyLicenseToken(access.token)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });
    await expect(verifier.verifyAccessToken(license.token)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });
  });

  it('forged token: signed by another key, tampered claims, other issuer, unknown kid', async () => {
    const real = await authority();
    const rogue = await authority();
    const forged = await rogue.issuer.issueAccessToken(subject, 60);
    await expect(real.verifier.verifyAccessToken(forged.token)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });

    const { token } = await real.issuer.issueAccessToken(subject, 60);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const escalated = Buffer.from(JSON.stringify({ ...claims, ent: ['*'] })).toString('base64url');
    await expect(real.verifier.verifyAccessToken(`${h}.${escalated}.${s}`)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });

    const otherIssuer = createTokenIssuer({
      issuer: 'https://evil.test',
      keys: [{ kid: 'k1', privateJwk: real.privateJwk as PrivateJwk }],
    });
    const wrongIss = await otherIssuer.issueAccessToken(subject, 60);
    await expect(real.verifier.verifyAccessToken(wrongIss.token)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });

    const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'fluxel-at+jwt', kid: 'k9' })).toString('base64url')}.${p}.${s}`;
    await expect(real.verifier.verifyAccessToken(unknownKid)).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });
    await expect(real.verifier.verifyAccessToken('not.a.token')).rejects.toMatchObject({
      code: 'ERR_LICENSE_INVALID_TOKEN',
    });
  });

  it('key rotation: tokens of the previous key verify while it is still published', async () => {
    const oldKey = (await generateKeyPair('EdDSA')).privateJwk;
    const newKey = (await generateKeyPair('EdDSA')).privateJwk;
    const before = createTokenIssuer({
      issuer: 'https://relay.test',
      keys: [{ kid: 'old', privateJwk: oldKey }],
    });
    const after = createTokenIssuer({
      issuer: 'https://relay.test',
      keys: [
        { kid: 'new', privateJwk: newKey },
        { kid: 'old', privateJwk: oldKey },
      ],
    });
    const verifier = createTokenVerifier({ issuer: 'https://relay.test', jwks: after.jwks() });
    expect(after.jwks().keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(JSON.stringify(after.jwks())).not.toContain('"d"');
    await expect(
      verifier.verifyAccessToken((await before.issueAccessToken(subject, 60)).token),
    ).resolves.toBeDefined();
    await expect(
      verifier.verifyAccessToken((await after.issueAccessToken(subject, 60)).token),
    ).resolves.toBeDefined();
  });
});
