// The runtime matrix's round trips: one module, plain ESM, importing the published packages by
// their public names, run unchanged on every runtime (Node, Bun and Deno directly; workerd and
// Chromium as an esbuild bundle). No `node:` import here, and no runtime detection: what a
// runtime lacks shows up as a failed cell.
//
// produce(runtime)  → { cells, vectors }: one cell per entry-point check, and what this runtime
//                     sealed, wrapped, signed and chained, as JSON.
// consume(vectors)  → { cells }: opens / verifies every other runtime's vectors.
//
// Each entry point is imported with its own dynamic import(), so an entry point that throws while
// loading fails its own cells, not the whole run.

const enc = new TextEncoder();
const dec = new TextDecoder();

const b64u = (bytes) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};
const fromB64u = (text) => {
  const s = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};
const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function rejectsWith(promise, code, what) {
  try {
    await promise;
  } catch (error) {
    if (error?.code === code) return error;
    throw new Error(`${what}: expected ${code}, got ${describe(error)}`);
  }
  throw new Error(`${what}: expected ${code}, but it succeeded`);
}

/** One line for an error: class, code, message, and the chain of causes. */
export function describe(error) {
  const parts = [];
  let e = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === 'object') {
      const name = e.name ?? e.constructor?.name ?? 'Error';
      parts.push(`${name}${e.code ? ` [${e.code}]` : ''}: ${e.message ?? String(e)}`);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(' ← caused by ');
}

async function cell(cells, row, fn) {
  const started = Date.now();
  try {
    await fn();
    cells.push({ row, ok: true, ms: Date.now() - started });
  } catch (error) {
    cells.push({ row, ok: false, ms: Date.now() - started, error: describe(error) });
  }
}

async function streamThrough(bytes, transform, pieces = 3) {
  const size = Math.ceil(bytes.length / pieces);
  const source = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
  const chunks = [];
  const reader = source.pipeThrough(transform).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

const CONTEXT = { tenant: 'matrix', table: 'vectors', record: '1' };
const PLAINTEXT = 'runtime matrix: sealed here, opened everywhere ✓';
const ISSUER = 'https://relay.matrix.example';
const WRAPPINGS = ['aes-gcm', 'aes-kw', 'aes-kwp'];
const SUITES = ['aes-256-gcm', 'xchacha20-poly1305', 'aes-256-gcm-siv'];

// A tiny relay for the relay-client round trip: it checks the DPoP proof with
// @fluxel/license's verifier and the body with the contract, and answers as the contract says.
function relayStub({ license, contract, accessToken, seen }) {
  const verifier = license.createDpopVerifier({ replay: new license.MemoryReplayStore() });
  return async (request) => {
    seen.push(request);
    const json = (status, body) => ({
      status,
      headers: { 'content-type': 'application/json' },
      body: enc.encode(JSON.stringify(body)),
    });
    const auth = request.headers.authorization ?? '';
    // eslint-disable-next-line security/detect-possible-timing-attacks -- a test stand-in's fixed token
    if (auth !== `DPoP ${accessToken}`)
      return json(401, { type: 'about:blank', status: 401, title: 'no token' });
    await verifier.verify({
      method: request.method,
      url: request.url,
      proof: request.headers.dpop,
      accessToken,
      body: request.body,
    });
    const path = new URL(request.url).pathname;
    if (request.method === 'POST' && path === '/v1/connections/shop-1/send') {
      contract.SendBody.parse(JSON.parse(dec.decode(request.body)));
      contract.IdempotencyKey.parse(request.headers['idempotency-key']);
      return json(200, {
        status: 'delivered',
        upstreamStatus: 200,
        deliveredAt: new Date().toISOString(),
        replayed: false,
      });
    }
    return json(404, { type: 'about:blank', status: 404, title: 'not found' });
  };
}

function tokenStore(accessToken) {
  return {
    load: () => ({
      licenseId: 'lic-matrix',
      accessToken,
      accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
      licenseToken: 'license-token',
      licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    }),
    save: () => {},
  };
}

// A SQL client that understands exactly the statements SqlLicenseStore sends (DDL, INSERT of a
// row, SELECT by one column), keeping rows in memory as pg would return them.
function sqlStub() {
  const rows = [];
  const statements = [];
  return {
    statements,
    async query(text, params = []) {
      statements.push(text);
      const insert = /^INSERT INTO (\w+) \(([^)]+)\) VALUES/.exec(text);
      if (insert && !insert[1].endsWith('_migrations')) {
        const columns = insert[2].split(',').map((c) => c.trim());
        const row = {};
        columns.forEach((c, i) => {
          const v = params[i];
          row[c] = typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v;
        });
        rows.push(row);
        return { rows: [] };
      }
      const select = /^SELECT .* FROM (\w+) WHERE (\w+) = \$1$/.exec(text);
      if (select) return { rows: rows.filter((r) => r[select[2]] === params[0]) };
      return { rows: [] };
    },
  };
}

/** Runs every entry point's round trip and returns the cells and this runtime's vectors. */
export async function produce(runtime) {
  const cells = [];
  const vectors = { runtime, records: {}, proofs: {}, tokens: {} };

  // ---------------------------------------------------------------- @fluxel/crypto
  // The KEK every runtime's vectors are sealed under (sent along: these are test vectors).
  const kekKey = crypto.getRandomValues(new Uint8Array(32));
  vectors.kek = b64u(kekKey);
  const cryptoCell = (row, fn) => cell(cells, row, async () => fn(await import('@fluxel/crypto')));
  for (const suite of SUITES) {
    await cryptoCell(`@fluxel/crypto · seal/open record (${suite})`, async (c) => {
      const keyring = new c.Keyring([c.localKek({ id: 'matrix-gcm', key: kekKey })]);
      const sealed = await c.sealText(PLAINTEXT, { keyring, context: CONTEXT, suite });
      check((await c.openText(sealed, { keyring, context: CONTEXT })) === PLAINTEXT, 'opens');
      await rejectsWith(
        c.openText(sealed, { keyring, context: { ...CONTEXT, record: '2' } }),
        'ERR_CRYPTO_DECRYPTION_FAILED',
        'another context',
      );
      vectors.records[`suite ${suite}`] = {
        kekId: 'matrix-gcm',
        wrapping: 'aes-gcm',
        sealed,
      };
    });
  }
  for (const wrapping of WRAPPINGS) {
    await cryptoCell(`@fluxel/crypto · KEK wrapping ${wrapping}`, async (c) => {
      const id = `matrix-${wrapping}`;
      const keyring = new c.Keyring([c.localKek({ id, key: kekKey, wrapping })]);
      const bytes = await c.seal(enc.encode(PLAINTEXT), { keyring, context: CONTEXT });
      check(c.inspect(bytes).kekIds[0] === id, 'header names the KEK');
      check(dec.decode(await c.open(bytes, { keyring, context: CONTEXT })) === PLAINTEXT, 'opens');
      vectors.records[`KEK ${wrapping}`] = {
        kekId: id,
        wrapping,
        sealed: c.toText(bytes),
      };
    });
  }
  await cryptoCell('@fluxel/crypto · seal/open stream', async (c) => {
    const keyring = new c.Keyring([c.localKek({ id: 'matrix-gcm', key: kekKey })]);
    const plain = new Uint8Array(200_000).map((_, i) => (i * 7) & 255);
    const sealed = await streamThrough(
      plain,
      c.sealStream({ keyring, context: CONTEXT, chunkSize: 65536 }),
    );
    const opened = await streamThrough(sealed, c.openStream({ keyring, context: CONTEXT }), 5);
    check(equalBytes(opened, plain), 'stream opens to the same bytes');
    await rejectsWith(
      streamThrough(
        sealed.slice(0, sealed.length - 16),
        c.openStream({ keyring, context: CONTEXT }),
      ),
      'ERR_CRYPTO_DECRYPTION_FAILED',
      'truncated stream',
    );
    vectors.stream = { kekId: 'matrix-gcm', sealed: b64u(sealed), length: plain.length };
  });
  await cryptoCell('@fluxel/crypto/errors · error class', async (c) => {
    const errors = await import('@fluxel/crypto/errors');
    const keyring = new c.Keyring([c.localKek({ id: 'matrix-gcm', key: kekKey })]);
    const sealed = await c.seal(enc.encode('x'), { keyring, context: CONTEXT });
    sealed[sealed.length - 1] ^= 1;
    const error = await rejectsWith(
      c.open(sealed, { keyring, context: CONTEXT }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
      'tampered',
    );
    check(errors.CryptoError.isInstance(error), 'CryptoError.isInstance across entry points');
    check(errors.isFluxelError(error), 'isFluxelError');
    check(errors.CRYPTO_ERROR_CODES.includes(error.code), 'code is listed');
  });
  await cryptoCell('@fluxel/crypto/aws-kms · wrap/unwrap via a KMS client stand-in', async (c) => {
    const { awsKmsKek } = await import('@fluxel/crypto/aws-kms');
    // The adapter only calls client.send(command) with command.input; the stand-in XORs.
    const pad = kekKey;
    const client = {
      async send(command) {
        const input = command.input;
        const data = input.Plaintext ?? input.CiphertextBlob;
        const out = data.map((b, i) => b ^ pad[i % pad.length]);
        return input.Plaintext
          ? { CiphertextBlob: out, KeyId: input.KeyId }
          : { Plaintext: out, KeyId: input.KeyId };
      },
    };
    const kek = awsKmsKek({ client, keyId: 'arn:aws:kms:eu-central-1:000000000000:key/matrix' });
    const keyring = new c.Keyring([kek]);
    const sealed = await c.seal(enc.encode(PLAINTEXT), { keyring, context: CONTEXT });
    check(dec.decode(await c.open(sealed, { keyring, context: CONTEXT })) === PLAINTEXT, 'opens');
  });

  // ---------------------------------------------------------------- @fluxel/license
  const licenseCheck = async (specifier, row, fn) => {
    await cell(cells, `${specifier} · ${row}`, async () => fn(await importLicense(specifier)));
  };
  await licenseCheck(
    '@fluxel/license',
    'issue, activate (ES256 device key), verify request',
    async (l) => {
      const authority = new l.LicenseAuthority({
        store: new l.MemoryLicenseStore(),
        pepper: crypto.getRandomValues(new Uint8Array(32)),
        issuer: ISSUER,
        signingKeys: [{ kid: 'matrix', privateJwk: (await l.generateKeyPair('EdDSA')).privateJwk }],
        replay: new l.MemoryReplayStore(),
      });
      const { license, key } = await authority.issue({
        tenant: 't',
        product: 'p',
        entitlements: ['orders'],
      });
      const { privateJwk } = await l.loadOrCreateDeviceKey(new l.MemoryKeyStore(), 'agent');
      const device = l.createDpopSigner(privateJwk);
      const url = `${ISSUER}/v1/activate`;
      const tokens = await authority.activate({
        licenseKey: key,
        request: {
          method: 'POST',
          url,
          headers: { dpop: await device.proof({ method: 'POST', url }) },
        },
      });
      const mailbox = `${ISSUER}/v1/mailbox`;
      const proof = await device.proof({
        method: 'GET',
        url: mailbox,
        accessToken: tokens.accessToken,
      });
      const verified = await authority.verifyRequest({
        method: 'GET',
        url: mailbox,
        headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: proof },
      });
      check(verified.license.id === license.id, 'the request is the license');
      check(verified.license.device?.jkt === device.jkt, 'bound to the device');
    },
  );
  await licenseCheck('@fluxel/license/key', 'generate and parse a license key', async (k) => {
    const key = k.generateLicenseKey();
    check(
      k.parseLicenseKey(key.toLowerCase().replaceAll('-', ' ')).canonical === key,
      'round trip',
    );
    check(!k.isLicenseKey(`${key.slice(0, -1)}${key.at(-1) === '0' ? '1' : '0'}`), 'typo caught');
  });
  for (const alg of ['ES256', 'EdDSA']) {
    await licenseCheck(
      '@fluxel/license/client',
      `${alg} device key: DPoP proof signed`,
      async (l) => {
        const { privateJwk } = await l.generateKeyPair(alg);
        const device = l.createDpopSigner(privateJwk);
        const url = `${ISSUER}/v1/connections/shop-1/send`;
        const body = enc.encode('{"operation":"order.status","payload":1}');
        const accessToken = 'matrix-access-token';
        const at = Date.now();
        const proof = await device.proof({ method: 'POST', url, accessToken, body });
        check(proof.split('.').length === 3, 'a JWS');
        vectors.proofs[alg] = {
          proof,
          method: 'POST',
          url,
          accessToken,
          body: b64u(body),
          at,
          jkt: device.jkt,
        };
      },
    );
  }
  await licenseCheck('@fluxel/license/server', 'DPoP proofs verified (ES256, EdDSA)', async (l) => {
    for (const alg of ['ES256', 'EdDSA']) {
      const v = vectors.proofs?.[alg];
      check(v, `a ${alg} proof was made`);
      await verifyProof(l, v);
      const replay = new l.MemoryReplayStore();
      const verifier = l.createDpopVerifier({ replay });
      const input = {
        method: v.method,
        url: v.url,
        proof: v.proof,
        accessToken: v.accessToken,
        body: fromB64u(v.body),
      };
      await verifier.verify(input);
      await rejectsWith(verifier.verify(input), 'ERR_DPOP_REPLAY', `${alg} replay`);
    }
  });
  for (const alg of ['EdDSA', 'ES256']) {
    await licenseCheck('@fluxel/license/server', `${alg} tokens issued`, async (l) => {
      const { privateJwk } = await l.generateKeyPair(alg);
      const issuer = l.createTokenIssuer({
        issuer: ISSUER,
        keys: [{ kid: `matrix-${alg}`, privateJwk }],
      });
      const subject = {
        sub: 'lic-1',
        tid: 't',
        prd: 'p',
        ent: ['orders'],
        lexp: null,
        cnf: { jkt: 'matrix-jkt' },
      };
      const at = Date.now();
      const access = await issuer.issueAccessToken(subject, 600);
      const licenseToken = await issuer.issueLicenseToken(subject, 86_400);
      vectors.tokens[alg] = {
        jwks: issuer.jwks(),
        accessToken: access.token,
        licenseToken: licenseToken.token,
        jkt: 'matrix-jkt',
        at,
      };
    });
    await licenseCheck('@fluxel/license/token', `${alg} tokens verified offline`, async (t) => {
      const v = vectors.tokens?.[alg];
      check(v, `a ${alg} token was issued`);
      await verifyTokens(t, v);
      const verifier = t.createTokenVerifier({ jwks: v.jwks, issuer: ISSUER });
      await rejectsWith(
        verifier.verifyLicenseToken(v.licenseToken, { jkt: 'another-device' }),
        'ERR_LICENSE_TOKEN_BINDING',
        'another device',
      );
    });
  }
  await licenseCheck(
    '@fluxel/license/sql',
    'SqlLicenseStore: migrate, issue, read back',
    async (s) => {
      const l = await import('@fluxel/license');
      const client = sqlStub();
      const store = new s.SqlLicenseStore(client);
      await store.migrate();
      check(
        s.LICENSE_MIGRATIONS.length > 0 &&
          client.statements.some((x) => x.includes('CREATE TABLE')),
        'migrations ran',
      );
      const authority = new l.LicenseAuthority({
        store,
        pepper: crypto.getRandomValues(new Uint8Array(32)),
        issuer: ISSUER,
        signingKeys: [{ kid: 'matrix', privateJwk: (await l.generateKeyPair('EdDSA')).privateJwk }],
        replay: new l.MemoryReplayStore(),
      });
      const { license } = await authority.issue({ tenant: 't', product: 'p', entitlements: ['a'] });
      const back = await authority.get(license.id);
      check(back.id === license.id && back.entitlements[0] === 'a', 'read back from the SQL rows');
    },
  );
  await licenseCheck('@fluxel/license/admin', 'gRPC handlers: Create and Get', async (a) => {
    const l = await import('@fluxel/license');
    check(typeof String(a.LICENSE_ADMIN_PROTO) === 'string', 'the .proto location');
    const authority = new l.LicenseAuthority({
      store: new l.MemoryLicenseStore(),
      pepper: crypto.getRandomValues(new Uint8Array(32)),
      issuer: ISSUER,
      signingKeys: [{ kid: 'matrix', privateJwk: (await l.generateKeyPair('EdDSA')).privateJwk }],
      replay: new l.MemoryReplayStore(),
    });
    const handlers = a.createLicenseAdminHandlers(authority, { authorize: () => 'matrix-admin' });
    const call = (method, request) =>
      new Promise((resolve, reject) =>
        handlers[method]({ request, metadata: { get: () => [] } }, (error, response) =>
          error
            ? reject(Object.assign(new Error(error.message), { code: error.code }))
            : resolve(response),
        ),
      );
    const created = await call('Create', {
      tenant: 't',
      product: 'p',
      entitlements: ['x'],
      expires_at: '',
    });
    check(/^FLX-/.test(created.license_key), 'a license key');
    const got = await call('Get', { id: created.license.id });
    check(got.id === created.license.id && got.tenant === 't', 'Get returns it');
  });
  await licenseCheck('@fluxel/license/errors', 'error class', async (e) => {
    const k = await import('@fluxel/license/key');
    let error;
    try {
      k.parseLicenseKey('FLX-NOPE');
    } catch (caught) {
      error = caught;
    }
    check(
      e.LicenseError.isInstance(error) && error.code === 'ERR_LICENSE_INVALID_KEY',
      'typed error',
    );
    check(e.isFluxelError(error), 'isFluxelError');
  });

  // ---------------------------------------------------------------- @fluxel/audit
  await cell(cells, '@fluxel/audit · append, checkpoint, verify chain', async () => {
    const a = await import('@fluxel/audit');
    const signingKey = a.generateSigningKey();
    const store = new a.MemoryStore();
    const log = await a.AuditLog.open({
      store,
      signingKey,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 5; i++) {
      await log.append({
        tenant: 'matrix',
        actor: { type: 'user', id: 'ann@matrix.example', ip: '192.0.2.10' },
        action: 'auth.login',
        outcome: i < 4 ? 'failure' : 'success',
        reason: `attempt ${i}`,
      });
    }
    await log.close();
    const lines = store.lines();
    const publicJwk = a.publicJwk(signingKey);
    const report = a.verifyLines(lines, { publicKeys: [a.verifyingKeyFromJwk(publicJwk)] });
    check(report.ok && report.events === 5, `verifies (${JSON.stringify(report.findings ?? [])})`);
    const tampered = lines.slice();
    tampered.splice(2, 1);
    check(
      !a.verifyLines(tampered, { publicKeys: [a.verifyingKeyFromJwk(publicJwk)] }).ok,
      'a deleted record is found',
    );
    vectors.audit = { lines, publicJwk, events: 5 };
  });
  await cell(cells, '@fluxel/audit/errors · error class', async () => {
    const a = await import('@fluxel/audit');
    const e = await import('@fluxel/audit/errors');
    const log = await a.AuditLog.open({
      store: new a.MemoryStore(),
      signingKey: a.generateSigningKey(),
      checkpointIntervalMs: 0,
    });
    const error = await rejectsWith(
      log.append({
        tenant: 't',
        actor: { type: 'user', id: 'u', ip: 'unknown' },
        action: 'auth.login',
        outcome: 'success',
      }),
      'ERR_AUDIT_INVALID_EVENT',
      'a bad actor.ip',
    );
    await log.close();
    check(e.AuditError.isInstance(error) && e.isFluxelError(error), 'typed error');
  });
  await cell(cells, '@fluxel/audit/sinks · Splunk HEC and OTLP delivery over fetch', async () => {
    const a = await import('@fluxel/audit');
    const s = await import('@fluxel/audit/sinks');
    const received = [];
    const fetchStub = async (url, init) => {
      received.push({ url: String(url), body: String(init.body), headers: init.headers });
      return new Response(
        String(url).includes('/services/collector') ? '{"text":"Success","code":0}' : '{}',
        {
          status: 200,
          headers: { 'content-type': 'application/json' },
        },
      );
    };
    const log = await a.AuditLog.open({
      store: new a.MemoryStore(),
      signingKey: a.generateSigningKey(),
      checkpointIntervalMs: 0,
    });
    const runners = [];
    for (const sink of [
      s.splunkHecSink({
        url: 'https://splunk.matrix.example:8088',
        token: 'hec',
        fetch: fetchStub,
      }),
      s.otlpLogsSink({ url: 'https://otel.matrix.example:4318', fetch: fetchStub }),
    ]) {
      runners.push(await a.attachSink(log, { sink }));
    }
    await log.append({
      tenant: 't',
      actor: { type: 'user', id: 'u' },
      action: 'auth.login',
      outcome: 'success',
    });
    for (const runner of runners) await runner.drain();
    for (const runner of runners) await runner.stop();
    await log.close();
    check(
      received.some(
        (r) => r.url.endsWith('/services/collector/event') && r.body.includes('auth.login'),
      ),
      'Splunk got it',
    );
    check(
      received.some((r) => r.url.endsWith('/v1/logs') && r.body.includes('auth.login')),
      'OTLP got it',
    );
  });

  // ---------------------------------------------------------------- @fluxel/acme-lite
  await cell(cells, '@fluxel/acme-lite · ES256 account key, JWS, key authorisation', async () => {
    const acme = await import('@fluxel/acme-lite');
    const { key, privateJwk } = await acme.generateAccountKey();
    const imported = await acme.importAccountKey(privateJwk);
    const jws = await acme.signJws(
      imported,
      { jwk: key.publicJwk, nonce: 'matrix-nonce', url: 'https://acme.matrix.example/new-acct' },
      { termsOfServiceAgreed: true },
    );
    const thumbprint = await acme.jwkThumbprint(key.publicJwk);
    await verifyAcmeJws(acme, { jws, publicJwk: key.publicJwk, thumbprint });
    vectors.acme = { jws, publicJwk: key.publicJwk, thumbprint };
  });
  const challenge = async () => {
    const acme = await import('@fluxel/acme-lite');
    const store = new acme.MemoryChallengeStore();
    const token = 'matrix_token-0123456789abcdef';
    const keyAuthorization = `${token}.${vectors.acme?.thumbprint ?? 'thumbprint'}`;
    store.set(token, keyAuthorization);
    return { store, token, keyAuthorization, path: `${acme.ACME_CHALLENGE_PREFIX}${token}` };
  };
  await cell(cells, '@fluxel/acme-lite/hono · HTTP-01 answered', async () => {
    const { acmeChallenges } = await import('@fluxel/acme-lite/hono');
    const { store, keyAuthorization, path } = await challenge();
    const middleware = acmeChallenges(store);
    let nextCalled = false;
    const response = await middleware(
      // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- HTTP-01 is plain HTTP by definition
      { req: { method: 'GET', url: `http://shop.example${path}` } },
      async () => {
        nextCalled = true;
      },
    );
    check(
      response.status === 200 && (await response.text()) === keyAuthorization,
      'the key authorisation',
    );
    // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- HTTP-01 is plain HTTP by definition
    await middleware({ req: { method: 'GET', url: 'http://shop.example/' } }, async () => {
      nextCalled = true;
    });
    check(nextCalled, 'other paths go on');
  });
  await cell(cells, '@fluxel/acme-lite/fastify · HTTP-01 answered', async () => {
    const { acmeChallengePlugin } = await import('@fluxel/acme-lite/fastify');
    const { store, keyAuthorization, path } = await challenge();
    const routes = new Map();
    await acmeChallengePlugin(store)({ get: (route, handler) => routes.set(route, handler) });
    const [route, handler] = [...routes][0];
    check(route.endsWith(':token'), 'a token route');
    const reply = {
      sent: undefined,
      status: 0,
      code(s) {
        this.status = s;
        return this;
      },
      headers() {
        return this;
      },
      send(body) {
        this.sent = body;
        return this;
      },
    };
    await handler({ method: 'GET', url: path }, reply);
    check(reply.status === 200 && reply.sent === keyAuthorization, 'the key authorisation');
  });
  await cell(cells, '@fluxel/acme-lite/errors · error class', async () => {
    const acme = await import('@fluxel/acme-lite');
    const e = await import('@fluxel/acme-lite/errors');
    const error = await rejectsWith(
      acme.importAccountKey({ kty: 'oct', k: 'AAAA', d: 'x' }),
      'ERR_ACME_INVALID_ARGUMENT',
      'a symmetric key',
    );
    check(e.AcmeError.isInstance(error) && e.isFluxelError(error), 'typed error');
  });

  // ---------------------------------------------------------------- @fluxel/relay-client
  await cell(cells, '@fluxel/relay-client/contract · parse and OpenAPI', async () => {
    const contract = await import('@fluxel/relay-client/contract');
    contract.SendBody.parse({ operation: 'order.status', payload: { order: 'A-1' } });
    check(
      !contract.SendBody.safeParse({ operation: 'Not An Op', payload: 1 }).success,
      'refuses a bad operation',
    );
    check(
      contract.routePath(contract.relayContract.send, { connection: 'shop-1' }).includes('shop-1'),
      'routePath',
    );
    const doc = contract.openApiDocument();
    check(
      doc.openapi?.startsWith('3.1') && Object.keys(doc.paths).length > 5,
      'an OpenAPI 3.1 document',
    );
  });
  for (const alg of ['ES256', 'EdDSA']) {
    await cell(
      cells,
      `@fluxel/relay-client · send through the client (${alg} DPoP) to a relay stand-in`,
      async () => {
        const r = await import('@fluxel/relay-client');
        const contract = await import('@fluxel/relay-client/contract');
        const license = await import('@fluxel/license');
        const accessToken = 'matrix-relay-token';
        const seen = [];
        const device = license.createDpopSigner((await license.generateKeyPair(alg)).privateJwk);
        const client = r.createRelayClientCore({
          baseUrl: ISSUER,
          transport: relayStub({ license, contract, accessToken, seen }),
          device,
          tokens: tokenStore(accessToken),
        });
        const idempotencyKey = crypto.randomUUID();
        const body = { operation: 'order.status', payload: { order: 'A-1001', status: 'shipped' } };
        const sent = await client.send({ connection: 'shop-1', idempotencyKey, body });
        check(sent.status === 'delivered', 'delivered');
        const bad = await client.send.safe({ connection: 'Shop 1!', idempotencyKey, body });
        check(
          !bad.ok && bad.error.code === 'ERR_RELAY_REQUEST_VALIDATION',
          'refused before sending',
        );
        const request = seen[0];
        if (alg !== 'ES256') return; // the vector: the default device key
        vectors.relay = {
          method: request.method,
          url: request.url,
          headers: { ...request.headers },
          body: b64u(request.body),
          accessToken,
          at: Date.now(),
        };
      },
    );
  }
  await cell(cells, '@fluxel/relay-client/outbox · enqueue, deliver, refuse', async () => {
    const o = await import('@fluxel/relay-client/outbox');
    const delivered = [];
    const outbox = new o.Outbox({ store: new o.MemoryOutboxStore() });
    const message = await outbox.enqueue({
      connection: 'shop-1',
      operation: 'order.status',
      payload: { n: 1 },
    });
    await rejectsWith(
      outbox.enqueue({ connection: 'Shop 1!', operation: 'order.status', payload: 1 }),
      'ERR_RELAY_INVALID_ARGUMENT',
      'a bad connection',
    );
    await outbox.drain(async (m) => {
      delivered.push(m.id);
    });
    check(delivered.length === 1 && delivered[0] === message.id, 'delivered once');
    check((await outbox.stats()).depth === 0, 'empty');
    await outbox.close();
  });
  await cell(cells, '@fluxel/relay-client/errors · error class', async () => {
    const r = await import('@fluxel/relay-client');
    const e = await import('@fluxel/relay-client/errors');
    let error;
    try {
      r.createRelayClientCore({});
    } catch (caught) {
      error = caught;
    }
    check(
      e.RelayError.isInstance(error) && error.code === 'ERR_RELAY_INVALID_ARGUMENT',
      `typed error (got ${describe(error)})`,
    );
    check(e.isFluxelError(error), 'isFluxelError');
  });

  return { cells, vectors };
}

// The license entry points, imported by literal specifier (bundlers need literals).
function importLicense(specifier) {
  switch (specifier) {
    case '@fluxel/license':
      return import('@fluxel/license');
    case '@fluxel/license/key':
      return import('@fluxel/license/key');
    case '@fluxel/license/client':
      return import('@fluxel/license/client');
    case '@fluxel/license/token':
      return import('@fluxel/license/token');
    case '@fluxel/license/server':
      return import('@fluxel/license/server');
    case '@fluxel/license/sql':
      return import('@fluxel/license/sql');
    case '@fluxel/license/admin':
      return import('@fluxel/license/admin');
    case '@fluxel/license/errors':
      return import('@fluxel/license/errors');
    default:
      throw new Error(`unknown entry point ${specifier}`);
  }
}

async function verifyProof(l, v) {
  // A fresh replay cache and the producer's clock: the proof was made at v.at.
  const verifier = l.createDpopVerifier({ replay: new l.MemoryReplayStore(), now: () => v.at });
  const verified = await verifier.verify({
    method: v.method,
    url: v.url,
    proof: v.proof,
    accessToken: v.accessToken,
    body: fromB64u(v.body),
  });
  if (v.jkt) check(verified.jkt === v.jkt, 'the thumbprint the producer computed');
}

async function verifyTokens(t, v) {
  const verifier = t.createTokenVerifier({ jwks: v.jwks, issuer: ISSUER, now: () => v.at });
  const access = await verifier.verifyAccessToken(v.accessToken, { jkt: v.jkt });
  const lic = await verifier.verifyLicenseToken(v.licenseToken, {
    jkt: v.jkt,
    entitlements: ['orders'],
  });
  check(access.sub === 'lic-1' && lic.sub === 'lic-1', 'claims');
}

async function verifyAcmeJws(acme, v) {
  check((await acme.jwkThumbprint(v.publicJwk)) === v.thumbprint, 'RFC 7638 thumbprint');
  const header = JSON.parse(dec.decode(fromB64u(v.jws.protected)));
  check(header.alg === 'ES256' && header.jwk?.x === v.publicJwk.x, 'protected header');
  // The signature, checked with Web Crypto (independent of acme-lite's signing path).
  const key = await crypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', x: v.publicJwk.x, y: v.publicJwk.y },
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  const ok = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    fromB64u(v.jws.signature),
    enc.encode(`${v.jws.protected}.${v.jws.payload}`),
  );
  check(ok, 'the ES256 signature verifies');
}

/**
 * Opens and verifies what each other runtime produced. `all` maps a runtime name to its vectors
 * (or to undefined when that runtime produced none). Rows are `vector · <kind>`; `from` says
 * which runtime made it.
 */
export async function consume(all) {
  const cells = [];
  const expect = (value, what) => {
    if (value === undefined)
      throw new Error(`not produced: ${what} failed on the producing runtime`);
    return value;
  };
  for (const [from, v] of Object.entries(all)) {
    const push = async (row, fn) => {
      const before = cells.length;
      await cell(cells, row, fn);
      cells[before].from = from;
    };
    for (const name of [
      'suite aes-256-gcm',
      'suite xchacha20-poly1305',
      'suite aes-256-gcm-siv',
      'KEK aes-gcm',
      'KEK aes-kw',
      'KEK aes-kwp',
    ]) {
      await push(`vector · crypto record (${name})`, async () => {
        const c = await import('@fluxel/crypto');
        const r = expect(v?.records?.[name], `sealing (${name})`);
        const keyring = new c.Keyring([c.localKek({ id: r.kekId, key: fromB64u(v.kek) })]);
        check((await c.openText(r.sealed, { keyring, context: CONTEXT })) === PLAINTEXT, 'opens');
      });
    }
    await push('vector · crypto stream', async () => {
      const c = await import('@fluxel/crypto');
      const s = expect(v?.stream, 'the stream');
      const keyring = new c.Keyring([c.localKek({ id: s.kekId, key: fromB64u(v.kek) })]);
      const opened = await streamThrough(
        fromB64u(s.sealed),
        c.openStream({ keyring, context: CONTEXT }),
        4,
      );
      check(
        opened.length === s.length && opened.every((b, i) => b === ((i * 7) & 255)),
        'the same bytes',
      );
    });
    for (const alg of ['ES256', 'EdDSA']) {
      await push(`vector · license DPoP proof (${alg})`, async () => {
        const l = await import('@fluxel/license/server');
        await verifyProof(l, expect(v?.proofs?.[alg], `the ${alg} proof`));
      });
    }
    for (const alg of ['EdDSA', 'ES256']) {
      await push(`vector · license tokens (${alg})`, async () => {
        const t = await import('@fluxel/license/token');
        await verifyTokens(t, expect(v?.tokens?.[alg], `the ${alg} tokens`));
      });
    }
    await push('vector · audit chain', async () => {
      const a = await import('@fluxel/audit');
      const au = expect(v?.audit, 'the audit chain');
      const report = a.verifyLines(au.lines, { publicKeys: [a.verifyingKeyFromJwk(au.publicJwk)] });
      check(
        report.ok && report.events === au.events,
        `verifies (${JSON.stringify(report.findings ?? [])})`,
      );
    });
    await push('vector · acme-lite JWS (ES256)', async () => {
      const acme = await import('@fluxel/acme-lite');
      await verifyAcmeJws(acme, expect(v?.acme, 'the JWS'));
    });
    await push('vector · relay-client request (contract + DPoP)', async () => {
      const contract = await import('@fluxel/relay-client/contract');
      const l = await import('@fluxel/license/server');
      const r = expect(v?.relay, 'the relay request');
      const body = fromB64u(r.body);
      contract.SendBody.parse(JSON.parse(dec.decode(body)));
      contract.IdempotencyKey.parse(r.headers['idempotency-key']);
      check(r.headers.authorization === `DPoP ${r.accessToken}`, 'DPoP authorization');
      await verifyProof(l, {
        method: r.method,
        url: r.url,
        proof: r.headers.dpop,
        accessToken: r.accessToken,
        body: r.body,
        at: r.at,
      });
    });
  }
  return { cells };
}
