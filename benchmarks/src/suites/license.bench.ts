/**
 * `@fluxel/license` benchmarks.
 * - verify-request: a DPoP-bound request (access token + proof + replay check + license
 *   state), steady state, against `jose.jwtVerify` of one ES256 JWT (peer) and one raw
 *   node:crypto ES256 verification (the limit: one signature check per request).
 * - proof: building a DPoP proof on the client against jose's `SignJWT` for the same proof.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  type AuthorityRequest,
  createDpopSigner,
  generateKeyPair,
  LicenseAuthority,
  MemoryLicenseStore,
  MemoryReplayStore,
} from '@fluxel/license';
import * as jose from 'jose';
import { emit, measure } from '../harness.ts';

const now = Date.now();
const URL_ = 'https://relay.example/v1/connections/shop-1/send';

// --- the authority and one activated device --------------------------------------------
const authority = new LicenseAuthority({
  store: new MemoryLicenseStore(),
  pepper: crypto.getRandomValues(new Uint8Array(32)),
  issuer: 'https://relay.example',
  signingKeys: [{ kid: 'k1', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
  replay: new MemoryReplayStore({ maxEntries: 2_000_000, now: () => now }),
  now: () => now,
});
const { key } = await authority.issue({
  tenant: 'tenant-a',
  product: 'wawi-sync',
  entitlements: ['orders'],
});
const deviceKey = (await generateKeyPair('ES256')).privateJwk;
const signer = createDpopSigner(deviceKey, { now: () => now });
const activation = await signer.proof({ method: 'POST', url: 'https://relay.example/v1/activate' });
const tokens = await authority.activate({
  licenseKey: key,
  request: {
    method: 'POST',
    url: 'https://relay.example/v1/activate',
    headers: { dpop: activation },
  },
});

// Every request needs a fresh proof (a replayed one is refused), so make them up front.
const COUNT = 60_000;
const requests: AuthorityRequest[] = [];
const proofs: string[] = [];
for (let i = 0; i < COUNT; i++) {
  const proof = await signer.proof({ method: 'GET', url: URL_, accessToken: tokens.accessToken });
  proofs.push(proof);
  requests.push({
    method: 'GET',
    url: URL_,
    headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: proof },
  });
}
let next = 0;
const ours = await measure(
  () => authority.verifyRequest(requests[next++ % COUNT] as AuthorityRequest),
  {
    samples: 5,
    sampleMs: 120,
  },
);
if (next > COUNT)
  throw new Error(`ran out of fresh proofs (${next} > ${COUNT}); replays would be measured`);

// --- peer: jose.jwtVerify of one ES256 JWT ---------------------------------------------
const joseKey = await jose.importJWK(deviceKey as jose.JWK, 'ES256');
const { d: _d, ...publicJwk } = deviceKey;
const josePublic = await jose.importJWK(publicJwk as jose.JWK, 'ES256');
const jwt = await new jose.SignJWT({ sub: 'lic', htm: 'GET', htu: URL_, jti: crypto.randomUUID() })
  .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(joseKey);
const joseRate = await measure(() => jose.jwtVerify(jwt, josePublic), {
  samples: 5,
  sampleMs: 120,
});

// --- limit: raw node:crypto ES256 verify -------------------------------------------------
const raw = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = new TextEncoder().encode(proofs[0]);
const signature = sign('sha256', data, { key: raw.privateKey, dsaEncoding: 'ieee-p1363' });
const publicKey = createPublicKey({ key: raw.publicKey.export({ format: 'jwk' }), format: 'jwk' });
const rawRate = await measure(
  () => verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
  {
    samples: 5,
    sampleMs: 120,
  },
);

emit('license/verify-request-vs-jose', ours, 'jose.jwtVerify (one ES256 JWT)', joseRate, 'ops/s');
emit(
  'license/verify-request-vs-raw',
  ours,
  'raw node:crypto ES256 verify (limit)',
  rawRate,
  'ops/s',
);

// --- building a proof ---------------------------------------------------------------------
const proofRate = await measure(
  () => signer.proof({ method: 'POST', url: URL_, accessToken: tokens.accessToken }),
  {
    samples: 5,
    sampleMs: 120,
  },
);
const ath = jose.base64url.encode(
  new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tokens.accessToken)),
  ),
);
const joseSignRate = await measure(
  () =>
    new jose.SignJWT({
      jti: crypto.randomUUID(),
      htm: 'POST',
      htu: URL_,
      iat: Math.floor(Date.now() / 1000),
      ath,
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk as jose.JWK })
      .sign(joseKey),
  { samples: 5, sampleMs: 120 },
);
const rawSignRate = await measure(
  () => sign('sha256', data, { key: raw.privateKey, dsaEncoding: 'ieee-p1363' }),
  {
    samples: 5,
    sampleMs: 120,
  },
);
emit('license/proof-vs-jose', proofRate, 'jose SignJWT (same proof)', joseSignRate, 'ops/s');
emit('license/proof-vs-raw', proofRate, 'raw node:crypto ES256 sign (limit)', rawSignRate, 'ops/s');
