/**
 * What acme-lite says on the wire about itself (RFC 8555 §6.1: a User-Agent naming the client
 * and its version) and what it says when the CA cannot be reached at all: the real reason
 * (DNS, refused, TLS), not a bare "request failed" with the reason two causes down.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { makeTestPki } from '@fluxel/internal/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeClient, generateAccountKey } from '../src/index.ts';
import { acmeFetch } from '../src/node.ts';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}

const client = async (directoryUrl: string, fetch?: typeof globalThis.fetch) =>
  new AcmeClient({
    directoryUrl,
    accountKey: (await generateAccountKey()).key,
    ...(fetch ? { fetch } : {}),
  });

describe('User-Agent (RFC 8555 §6.1)', () => {
  const seen: IncomingHttpHeaders[] = [];
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ newNonce: `http://${base}/nonce`, newAccount: `http://${base}/acct` }),
      );
    });
    base = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('regression: requests went out as "undici"; they name acme-lite and its version', async () => {
    await (await client(`http://${base}/directory`)).directory();
    await (await client(`http://${base}/directory`, acmeFetch())).directory();
    expect(seen.map((h) => h['user-agent'])).toEqual([
      `fluxel-acme-lite/${version}`,
      `fluxel-acme-lite/${version}`,
    ]);
  });
});

describe('a CA that cannot be reached says why', () => {
  it('regression: a refused connection read "request to … failed" and nothing more', async () => {
    const closed = createServer();
    const address = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await (await client(`http://${address}/directory`)).directory().catch((e) => e);
    expect(error.code).toBe('ERR_ACME_UNREACHABLE');
    expect(error.message).toBe(
      `request to http://${address}/directory failed: connection refused (ECONNREFUSED)`,
    );
  });

  it('names a DNS failure', async () => {
    const error = await (await client('https://acme.invalid/directory'))
      .directory()
      .catch((e) => e);
    expect(error.message).toMatch(
      /^request to https:\/\/acme\.invalid\/directory failed: the name (acme\.invalid )?could not be resolved \(DNS, E[A-Z_]+\)$/,
    );
  });

  it('names a certificate the client does not trust (TLS)', async () => {
    const pki = makeTestPki({ names: ['127.0.0.1'] });
    const server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) =>
      res.end('{}'),
    );
    const address = await listen(server as unknown as Server);
    try {
      for (const fetch of [undefined, acmeFetch()]) {
        const error = await (await client(`https://${address}/directory`, fetch))
          .directory()
          .catch((e) => e);
        expect(error.message).toMatch(
          /failed: TLS: .+ \((UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_)\w+\)$/,
        );
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
