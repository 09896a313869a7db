/**
 * `@fluxel/acme-lite` benchmark: one certificate issuance (account lookup, order, HTTP-01,
 * finalize, download) against a local Pebble with PEBBLE_VA_NOSLEEP=1 and no nonce
 * rejection, against
 * - the npm package `acme-client` doing the same with its `auto()` flow (same Pebble, same
 *   HTTP-01 responder, ECDSA P-256 certificate key for both), and
 * - the protocol floor: the sum of Pebble's own response times for the requests one of our
 *   issuances makes (measured by an instrumented fetch).
 * A fresh client per issuance with an existing account key, for both libraries.
 */
import { Agent as HttpsAgent } from 'node:https';
import { AcmeClient, generateAccountKey, MemoryChallengeStore } from '@fluxel/acme-lite';
import { acmeFetch, startChallengeServer } from '@fluxel/acme-lite/node';
import acme from 'acme-client';
import { pebbleAvailable, startPebble } from '../../../packages/acme-lite/test/pebble-harness.ts';
import { emit, median, scaled } from '../harness.ts';

if (!pebbleAvailable()) {
  console.error(
    'acme.bench: pebble, pebble-challtestsrv or openssl is not installed (apt-get install pebble openssl); no results',
  );
  process.exit(0);
}

const RUNS = scaled(15, 3);
const pebble = await startPebble({ nonceReject: 0 });
const challenges = new MemoryChallengeStore();
const responder = await startChallengeServer({
  port: pebble.httpPort,
  host: '127.0.0.1',
  store: challenges,
});

try {
  // --- ours ------------------------------------------------------------------------------
  let requests: { ms: number }[] = [];
  const fetch = acmeFetch({ ca: pebble.listenerCa, onResponse: (r) => requests.push(r) });
  const accountKey = (await generateAccountKey()).key;
  await new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey, fetch }).createAccount({
    contact: ['bench@example.org'],
  });
  const oursMs: number[] = [];
  const floorMs: number[] = [];
  const oursRequests: number[] = [];
  for (let i = -1; i < RUNS; i++) {
    requests = [];
    const started = performance.now();
    const client = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey, fetch });
    await client.issue({ identifiers: [`ours-${i + 1}.example.org`], challengeStore: challenges });
    const elapsed = performance.now() - started;
    if (i < 0) continue; // warm-up
    oursMs.push(elapsed);
    floorMs.push(requests.reduce((sum, r) => sum + r.ms, 0));
    oursRequests.push(requests.length);
  }

  // --- acme-client auto() ------------------------------------------------------------------
  const axios = acme.axios;
  axios.defaults.httpsAgent = new HttpsAgent({ ca: pebble.listenerCa });
  let theirCount = 0;
  axios.interceptors.request.use((config) => {
    theirCount++;
    return config;
  });
  acme.setLogger(() => {});
  const theirKey = await acme.crypto.createPrivateEcdsaKey();
  const theirsMs: number[] = [];
  const theirsRequests: number[] = [];
  for (let i = -1; i < RUNS; i++) {
    theirCount = 0;
    const started = performance.now();
    const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: theirKey });
    const [, csr] = await acme.crypto.createCsr(
      { commonName: `theirs-${i + 1}.example.org` },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    await client.auto({
      csr,
      email: 'bench@example.org',
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        challenges.set((challenge as { token: string }).token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        challenges.delete((challenge as { token: string }).token);
      },
    });
    const elapsed = performance.now() - started;
    if (i < 0) continue;
    theirsMs.push(elapsed);
    theirsRequests.push(theirCount);
  }

  const ours = median(oursMs);
  const extra = {
    runs: RUNS,
    oursRequestsPerIssuance: median(oursRequests),
    acmeClientRequestsPerIssuance: median(theirsRequests),
  };
  emit('acme/issue-vs-acme-client', ours, 'acme-client auto()', median(theirsMs), 'ms', extra);
  emit(
    'acme/issue-vs-protocol-floor',
    ours,
    'sum of Pebble response times',
    median(floorMs),
    'ms',
    {
      ...extra,
      floorRatio: Number((ours / median(floorMs)).toFixed(2)),
    },
  );
} finally {
  await responder.close();
  await pebble.stop();
}
