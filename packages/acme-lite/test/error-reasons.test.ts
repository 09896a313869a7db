/**
 * Errors say which check failed at the top level, where code can match on it: a CA that
 * cannot be reached is ERR_ACME_UNREACHABLE with `reason` dns / refused / tls / … (it was a
 * generic ERR_ACME_PROBLEM with the real reason two `cause`s down), and a refusal by the CA
 * carries the ACME error type of its problem document as `reason` (`unauthorized`,
 * `externalAccountRequired`, …). Real failures only: a closed port, an unresolvable name, a
 * local HTTPS server with an untrusted certificate or one for another name, and Pebble.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { makeTestPki } from '@fluxel/internal/pki';
import { missingDependency } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeClient, AcmeError, generateAccountKey } from '../src/index.ts';
import { acmeFetch } from '../src/node.ts';
import { type Pebble, pebbleAvailable, startPebble } from './pebble-harness.ts';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}

const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

async function directoryError(url: string, fetch?: typeof globalThis.fetch): Promise<AcmeError> {
  const client = new AcmeClient({
    directoryUrl: url,
    accountKey: (await generateAccountKey()).key,
    ...(fetch ? { fetch } : {}),
  });
  const error = await client.directory().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!AcmeError.isInstance(error)) throw new Error(`expected an AcmeError, got ${error}`);
  return error;
}

describe('a CA that cannot be reached: ERR_ACME_UNREACHABLE with the transport reason on top', () => {
  it('regression: a refused port was the generic ERR_ACME_PROBLEM with the reason two causes down', async () => {
    const closed = createServer();
    const address = await listen(closed);
    await close(closed);
    for (const fetch of [undefined, acmeFetch()]) {
      const error = await directoryError(`http://${address}/directory`, fetch);
      expect({ code: error.code, reason: error.reason }).toEqual({
        code: 'ERR_ACME_UNREACHABLE',
        reason: 'refused',
      });
      expect(error.message).toBe(
        `request to http://${address}/directory failed: connection refused (ECONNREFUSED)`,
      );
      expect(error.cause).toBeDefined();
    }
  });

  it('regression: an unresolvable host name (acme.invalid) was ERR_ACME_PROBLEM; it is reason dns', async () => {
    for (const fetch of [undefined, acmeFetch()]) {
      const error = await directoryError('https://acme.invalid/directory', fetch);
      expect({ code: error.code, reason: error.reason }).toEqual({
        code: 'ERR_ACME_UNREACHABLE',
        reason: 'dns',
      });
      expect(error.message).toMatch(
        /^request to https:\/\/acme\.invalid\/directory failed: the name (acme\.invalid )?could not be resolved \(DNS, E[A-Z_]+\)$/,
      );
    }
  });

  it('regression: a TLS name mismatch was ERR_ACME_PROBLEM; it is reason tls naming the check', async () => {
    // The CA is trusted, the certificate is valid, but for another name than the one dialled.
    const pki = makeTestPki({ names: ['ca.example.test'] });
    const server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) =>
      res.end('{}'),
    );
    const address = await listen(server as unknown as Server);
    try {
      const error = await directoryError(
        `https://${address}/directory`,
        acmeFetch({ ca: pki.caPem }),
      );
      expect({ code: error.code, reason: error.reason }).toEqual({
        code: 'ERR_ACME_UNREACHABLE',
        reason: 'tls',
      });
      expect(error.message).toMatch(
        /^request to https:\/\/127\.0\.0\.1:\d+\/directory failed: TLS: .*does not match.* \(ERR_TLS_CERT_ALTNAME_INVALID\)$/,
      );
    } finally {
      await close(server as unknown as Server);
    }
  });

  it('an untrusted certificate is reason tls too', async () => {
    const pki = makeTestPki({ names: ['127.0.0.1'] });
    const server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) =>
      res.end('{}'),
    );
    const address = await listen(server as unknown as Server);
    try {
      for (const fetch of [undefined, acmeFetch()]) {
        const error = await directoryError(`https://${address}/directory`, fetch);
        expect({ code: error.code, reason: error.reason }).toEqual({
          code: 'ERR_ACME_UNREACHABLE',
          reason: 'tls',
        });
      }
    } finally {
      await close(server as unknown as Server);
    }
  });

  it('a fetch that fails without a code (other runtimes) is reason network, its message kept', async () => {
    const error = await directoryError('https://ca.example/directory', (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch);
    expect({ code: error.code, reason: error.reason }).toEqual({
      code: 'ERR_ACME_UNREACHABLE',
      reason: 'network',
    });
    expect(error.message).toBe('request to https://ca.example/directory failed: Failed to fetch');
  });
});

const skip = pebbleAvailable()
  ? false
  : missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl');

describe.skipIf(skip)("the CA's problem document: its ACME error type is error.reason", () => {
  let pebble: Pebble;
  let fetch_: typeof fetch;
  const hmacKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  beforeAll(async () => {
    pebble = await startPebble({ eab: { 'kid-1': hmacKey } });
    fetch_ = acmeFetch({ ca: pebble.listenerCa });
  });
  afterAll(async () => {
    await pebble?.stop();
  });

  const newClient = async () =>
    new AcmeClient({
      directoryUrl: pebble.directoryUrl,
      accountKey: (await generateAccountKey()).key,
      fetch: fetch_,
    });

  it('regression: a refusal named its ACME type only inside error.problem (externalAccountRequired)', async () => {
    const error = (await (await newClient()).createAccount().catch((e: unknown) => e)) as AcmeError;
    expect({ code: error.code, reason: error.reason, type: error.problem?.type }).toEqual({
      code: 'ERR_ACME_PROBLEM',
      reason: 'externalAccountRequired',
      type: 'urn:ietf:params:acme:error:externalAccountRequired',
    });
  });

  it('a failed validation carries the type of the challenge error', async () => {
    const client = await newClient();
    await client.createAccount({
      externalAccountBinding: { kid: 'kid-1', hmacKey },
    });
    // Nothing answers on Pebble's validation port: the challenge fails with a connection error.
    const silent = { set() {}, get: () => undefined, delete() {} };
    const error = (await client
      .issue({ identifiers: ['nobody.example.org'], challengeStore: silent })
      .catch((e: unknown) => e)) as AcmeError;
    expect(error.code).toBe('ERR_ACME_PROBLEM');
    expect(error.problem?.type).toMatch(/^urn:ietf:params:acme:error:[A-Za-z]+$/);
    expect(error.reason).toBe(error.problem?.type?.slice('urn:ietf:params:acme:error:'.length));
    expect(error.message).toMatch(/^validation of nobody\.example\.org failed/);
  });
});

describe('reason from a problem document built by hand', () => {
  it('an ACME type loses its URN prefix; another type is kept whole; an explicit reason wins', () => {
    const acme = new AcmeError('ERR_ACME_RATE_LIMITED', 'slow down', {
      problem: { type: 'urn:ietf:params:acme:error:rateLimited' },
    });
    expect(acme.reason).toBe('rateLimited');
    const other = new AcmeError('ERR_ACME_PROBLEM', 'x', {
      problem: { type: 'https://ca.example/problems/quota' },
    });
    expect(other.reason).toBe('https://ca.example/problems/quota');
    expect(new AcmeError('ERR_ACME_PROBLEM', 'x', { problem: { detail: 'no type' } }).reason).toBe(
      undefined,
    );
    expect(new AcmeError('ERR_ACME_UNREACHABLE', 'x', { reason: 'dns' }).reason).toBe('dns');
  });
});
