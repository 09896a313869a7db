/**
 * `@fluxel/license` benchmarks.
 * - verify-request: a DPoP-bound request (access token + proof + replay check + license
 *   state), steady state, against `jose.jwtVerify` of one ES256 JWT (peer) and one raw
 *   node:crypto ES256 verification (the limit: one signature check per request).
 * - proof: building a DPoP proof on the client against jose's `SignJWT` for the same proof.
 * Ours, the peer and the limit are sampled in interleaved rounds (see `interleaved`).
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
import { emit, measure, median, scaled } from '../harness.ts';

/**
 * Measures operations in interleaved rounds (one sample of each per round) and returns each
 * one's median rate: a change in the machine's load then moves ours and the peer alike, so
 * their ratio holds even on a busy machine (measured one after the other, a load spike during
 * one of them made the ratio swing between 0.5× and 8×).
 */
async function interleaved<K extends string>(
  operations: Record<K, () => unknown>,
): Promise<Record<K, number>> {
  const entries = Object.entries(operations) as [K, () => unknown][];
  for (const [, fn] of entries)
    await measure(fn, { warmupMs: scaled(200, 50), samples: 1, sampleMs: 20 });
  const rates = new Map<K, number[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < scaled(7, 3); round++) {
    for (const [name, fn] of entries) {
      rates
        .get(name)
        ?.push(await measure(fn, { warmupMs: 0, samples: 1, sampleMs: scaled(120, 60) }));
    }
  }
  return Object.fromEntries(
    entries.map(([name]) => [name, median(rates.get(name) ?? [])]),
  ) as Record<K, number>;
}

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
const verifyOurs = () => authority.verifyRequest(requests[next++ % COUNT] as AuthorityRequest);

// --- peer: jose.jwtVerify of one ES256 JWT ---------------------------------------------
const joseKey = await jose.importJWK(deviceKey as jose.JWK, 'ES256');
const { d: _d, ...publicJwk } = deviceKey;
const josePublic = await jose.importJWK(publicJwk as jose.JWK, 'ES256');
const jwt = await new jose.SignJWT({ sub: 'lic', htm: 'GET', htu: URL_, jti: crypto.randomUUID() })
  .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(joseKey);

// --- limit: raw node:crypto ES256 verify -------------------------------------------------
const raw = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = new TextEncoder().encode(proofs[0]);
const signature = sign('sha256', data, { key: raw.privateKey, dsaEncoding: 'ieee-p1363' });
const publicKey = createPublicKey({ key: raw.publicKey.export({ format: 'jwk' }), format: 'jwk' });

const verifyRates = await interleaved({
  ours: verifyOurs,
  jose: () => jose.jwtVerify(jwt, josePublic),
  raw: () => verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature),
});
if (next > COUNT)
  throw new Error(`ran out of fresh proofs (${next} > ${COUNT}); replays would be measured`);
const ours = verifyRates.ours;
const joseRate = verifyRates.jose;
const rawRate = verifyRates.raw;

emit('license/verify-request-vs-jose', ours, 'jose.jwtVerify (one ES256 JWT)', joseRate, 'ops/s');
emit(
  'license/verify-request-vs-raw',
  ours,
  'raw node:crypto ES256 verify (limit)',
  rawRate,
  'ops/s',
);

// --- building a proof ---------------------------------------------------------------------
const ath = jose.base64url.encode(
  new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tokens.accessToken)),
  ),
);
const proofRates = await interleaved({
  ours: () => signer.proof({ method: 'POST', url: URL_, accessToken: tokens.accessToken }),
  jose: () =>
    new jose.SignJWT({
      jti: crypto.randomUUID(),
      htm: 'POST',
      htu: URL_,
      iat: Math.floor(Date.now() / 1000),
      ath,
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk as jose.JWK })
      .sign(joseKey),
  raw: () => sign('sha256', data, { key: raw.privateKey, dsaEncoding: 'ieee-p1363' }),
});
const proofRate = proofRates.ours;
const joseSignRate = proofRates.jose;
const rawSignRate = proofRates.raw;
emit('license/proof-vs-jose', proofRate, 'jose SignJWT (same proof)', joseSignRate, 'ops/s');
emit('license/proof-vs-raw', proofRate, 'raw node:crypto ES256 sign (limit)', rawSignRate, 'ops/s');
