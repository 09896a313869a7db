/**
 * Options are checked when a client is built: a wrong one is `ERR_RELAY_INVALID_ARGUMENT`
 * naming the option and what to pass — not a runtime's raw message at the first call.
 */
import { createDpopSigner, generateKeyPair } from '@fluxel/license/client';
import { describe, expect, it } from 'vitest';
import { createRelayClientCore, RelayError, type Transport } from '../src/index.ts';
import { createRelayClient, createUndiciTransport } from '../src/node.ts';

const device = createDpopSigner((await generateKeyPair()).privateJwk);
const transport: Transport = async () => ({ status: 204, headers: {}, body: new Uint8Array() });

function refused(build: () => unknown): RelayError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).code).toBe('ERR_RELAY_INVALID_ARGUMENT');
    return error as RelayError;
  }
  throw new Error('the options were accepted');
}

describe('relay client options', () => {
  it('regression: createRelayClient({}) threw a raw "Invalid URL"', () => {
    expect(refused(() => createRelayClient({} as never)).message).toMatch(
      /^baseUrl is required: the relay's URL, e\.g\. \{ baseUrl: "https:\/\/relay\.example\.com" \}/,
    );
    expect(refused(() => createRelayClient({ baseUrl: 'relay', device } as never)).message).toMatch(
      /^baseUrl is not a URL: "relay"/,
    );
    expect(
      refused(() => createRelayClient({ baseUrl: 'http://relay.example.com', device })).message,
    ).toMatch(/must be https:\/\//);
  });

  it('regression: transport options were unchecked (a bad proxy threw a raw "Invalid URL", pins as a string a TypeError, timeouts and limits were taken as given)', () => {
    const base = { baseUrl: 'https://relay.example.com', device, proxy: false as const };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ proxy: 'not a url' }, /^proxy must be 'env' \(default\), false, or the proxy's URL/],
      [{ proxy: 'ftp://proxy.example' }, /^proxy must be/],
      [{ pins: 'sha256/abc' }, /^pins must be a list of 'sha256\/<base64>' SPKI pins/],
      [{ ca: 5 }, /^ca must be a PEM string/],
      [{ ca: [] }, /^ca must be a PEM string/],
      [{ timeouts: 1000 }, /^timeouts must be an object/],
      [
        { timeouts: { connectMs: -1 } },
        /^timeouts\.connectMs must be a whole number of milliseconds/,
      ],
      [{ timeouts: { headersMs: '5' } }, /^timeouts\.headersMs must be/],
      [{ keepAliveMs: 0 }, /^keepAliveMs must be/],
      [{ maxResponseBytes: 0 }, /^maxResponseBytes must be a whole number of bytes/],
      [{ maxResponseBytes: 'x' }, /^maxResponseBytes must be/],
      [{ env: 'HTTPS_PROXY=x' }, /^env must be an object/],
    ];
    for (const [override, message] of cases) {
      expect(refused(() => createRelayClient({ ...base, ...override } as never)).message).toMatch(
        message,
      );
      expect(refused(() => createUndiciTransport(override as never)).message).toMatch(message);
    }
  });

  it('names a missing or wrong device, token store, retry policy or hook', () => {
    const base = { baseUrl: 'https://relay.example.com', transport, device };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ device: undefined }, /^device must be a DPoP proof signer with proof\(request\)/],
      [{ device: createDpopSigner }, /^device must be a DPoP proof signer/],
      [{ tokens: {} }, /^tokens must be a token store with load\(\) and save\(\)/],
      [{ retry: 3 }, /^retry must be an object/],
      [{ retry: { attempts: 0 } }, /^retry\.attempts must be an integer ≥ 1/],
      [{ retry: { attempts: 2.5 } }, /^retry\.attempts must be an integer ≥ 1/],
      [{ retry: { baseDelayMs: -1 } }, /^retry\.baseDelayMs must be a number ≥ 0/],
      [{ retry: { maxDelayMs: Number.NaN } }, /^retry\.maxDelayMs must be a number ≥ 0/],
      [{ userAgent: 7 }, /^userAgent must be a string/],
      [{ sleep: 'soon' }, /^sleep must be a function/],
      [{ transport: undefined }, /^transport must be a function/],
    ];
    for (const [change, message] of cases)
      expect(refused(() => createRelayClientCore({ ...base, ...change } as never)).message).toMatch(
        message,
      );
    // The Node client checks before it builds its connection pool.
    expect(
      refused(() =>
        createRelayClient({ baseUrl: 'https://relay.example.com', device: {} } as never),
      ).message,
    ).toMatch(/^device must be a DPoP proof signer/);
  });

  it('accepts what the README passes', () => {
    expect(() =>
      createRelayClientCore({
        baseUrl: 'https://relay.example.com',
        transport,
        device,
        retry: { attempts: 1, baseDelayMs: 0 },
      }),
    ).not.toThrow();
    expect(() =>
      createRelayClientCore({ baseUrl: 'http://127.0.0.1:8080', transport, device }),
    ).not.toThrow();
  });
});
