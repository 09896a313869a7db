/**
 * The client against a real HTTPS relay (Fastify + the license authority): activation, every
 * route, CA pinning, a CONNECT proxy, and fault injection.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayError } from '../src/errors.ts';
import {
  createRelayClient,
  type NodeRelayClient,
  type RelayClientOptions,
  spkiPin,
} from '../src/node.ts';
import { makePki, type Pki } from './pki.ts';
import { type RelayFixture, startRelay } from './relay-server.ts';

let pki: Pki;
let rogue: Pki;
let relay: RelayFixture;
const clients: NodeRelayClient[] = [];

beforeAll(async () => {
  pki = makePki('Fluxel Test Relay CA');
  rogue = makePki('Public Looking Root CA');
  relay = await startRelay(pki);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await relay?.close();
});

async function client(
  overrides: Partial<RelayClientOptions> = {},
  target: RelayFixture = relay,
): Promise<NodeRelayClient> {
  const device = createDpopSigner((await generateKeyPair()).privateJwk);
  const made = createRelayClient({
    baseUrl: target.url,
    device,
    ca: pki.caCert,
    proxy: false,
    retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
    ...overrides,
  });
  clients.push(made);
  return made;
}

async function activated(
  overrides: Partial<RelayClientOptions> = {},
  target: RelayFixture = relay,
) {
  const c = await client(overrides, target);
  await c.activate({ body: { licenseKey: await target.issueKey() } });
  return c;
}

const message = (n = 1) => ({
  operation: 'order.status',
  payload: { order: `A-${n}`, status: 'shipped' },
});

describe('over real HTTPS', () => {
  it('activates, stores credentials, sends, reads status, picks up and acks', async () => {
    const c = await client();
    const tokens = await c.activate({
      body: { licenseKey: await relay.issueKey(), device: { name: 'erp-host' } },
    });
    expect(tokens.accessToken).toBeTruthy();
    expect(await c.tokens()).toMatchObject({ licenseId: tokens.licenseId });
    await expect(
      c.putCredentials({
        connection: 'shop-1',
        body: { kind: 'api-key', fields: { apiKey: 's3cret' } },
      }),
    ).resolves.toBeUndefined();
    const key = crypto.randomUUID();
    const sent = await c.send({ connection: 'shop-1', idempotencyKey: key, body: message() });
    expect(sent).toMatchObject({ status: 'delivered', replayed: false });
    expect(relay.effects.get(key)).toBe(1);
    const status = await c.status();
    expect(status.license).toMatchObject({ id: tokens.licenseId, status: 'active' });
    relay.mailbox.push({
      id: 'evt-1',
      connection: 'shop-1',
      type: 'payment.received',
      receivedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      payload: { amount: 12.5 },
    });
    const picked = await c.pickup({ wait: 1, limit: 10 });
    expect(picked.events.map((e) => e.id)).toEqual(['evt-1']);
    expect(await c.ack({ body: { ids: ['evt-1'] } })).toEqual({ acked: 1 });
    await expect(c.deleteCredentials({ connection: 'shop-1' })).resolves.toBeUndefined();
    await expect(
      c.reRequest({
        connection: 'shop-1',
        idempotencyKey: crypto.randomUUID(),
        body: {
          type: 'payment.received',
          from: '2026-11-01T00:00:00Z',
          to: '2026-11-02T00:00:00Z',
        },
      }),
    ).resolves.toMatchObject({ status: 'requested' });
  });

  it('.safe returns a result instead of throwing', async () => {
    const c = await client();
    const result = await c.status.safe();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('ERR_RELAY_DEVICE_PROOF');
  });

  it('a second activation with the same key from another machine is refused (403)', async () => {
    const key = await relay.issueKey();
    await (await client()).activate({ body: { licenseKey: key } });
    const second = await (await client()).activate.safe({ body: { licenseKey: key } });
    expect(second.ok).toBe(false);
    if (!second.ok)
      expect(second.error).toMatchObject({ code: 'ERR_RELAY_UNAUTHORIZED', status: 403 });
  });
});

describe('certificate verification and pinning', () => {
  it('accepts the relay certificate by pin (primary or backup) and refuses a certificate from another CA', async () => {
    const good = spkiPin(pki.serverCert);
    const backup = spkiPin(rogue.serverCert);
    const pinned = await client({ pins: [`sha256/${good}`, backup] });
    await expect(
      pinned.activate({ body: { licenseKey: await relay.issueKey() } }),
    ).resolves.toBeDefined();
    const caPinned = await client({ pins: [spkiPin(pki.caCert)] });
    await expect(
      caPinned.activate({ body: { licenseKey: await relay.issueKey() } }),
    ).resolves.toBeDefined();
    const wrongPin = await client({ pins: [backup] });
    await expect(
      wrongPin.activate({ body: { licenseKey: await relay.issueKey() } }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_TLS', retryable: false });
  });

  it('refuses a server whose certificate chains to a CA we do not trust, even one the server presents', async () => {
    const impostor = await startRelay(rogue);
    try {
      const c = await client({}, impostor);
      const error = await c
        .activate({ body: { licenseKey: await impostor.issueKey() } })
        .catch((e: unknown) => e);
      expect(RelayError.isInstance(error) && error.code).toBe('ERR_RELAY_TLS');
      expect(impostor.hits.get('activate') ?? 0).toBe(0);
      // trusting the impostor's CA but pinning ours still refuses
      const pinnedToUs = await client(
        { ca: rogue.caCert, pins: [spkiPin(pki.serverCert)] },
        impostor,
      );
      await expect(
        pinnedToUs.activate({ body: { licenseKey: await impostor.issueKey() } }),
      ).rejects.toMatchObject({ code: 'ERR_RELAY_TLS' });
    } finally {
      await impostor.close();
    }
  });

  it('refuses a pin that is not a SHA-256', async () => {
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    expect(() => createRelayClient({ baseUrl: relay.url, device, pins: ['short'] })).toThrow(
      /32 bytes/,
    );
  });
});

describe('through an HTTP CONNECT proxy', () => {
  let proxy: Server;
  let tunnels = 0;
  beforeAll(async () => {
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, socket, head) => {
      tunnels++;
      const [host, port] = (req.url as string).split(':');
      const upstream = connect(Number(port), host as string, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
  });
  afterAll(() => proxy?.close());

  it('honours HTTPS_PROXY, and the pin still applies through the tunnel', async () => {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const env = { HTTPS_PROXY: proxyUrl, NO_PROXY: '' };
    const viaProxy = await client({ proxy: 'env', env, pins: [spkiPin(pki.serverCert)] });
    const before = tunnels;
    await viaProxy.activate({ body: { licenseKey: await relay.issueKey() } });
    expect(tunnels).toBeGreaterThan(before);
    const wrongPin = await client({ proxy: 'env', env, pins: [spkiPin(rogue.serverCert)] });
    await expect(
      wrongPin.activate({ body: { licenseKey: await relay.issueKey() } }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_TLS' });
    const bypass = await client({
      proxy: 'env',
      env: { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' },
    });
    const count = tunnels;
    await bypass.activate({ body: { licenseKey: await relay.issueKey() } });
    expect(tunnels).toBe(count);
  });
});

describe('faults', () => {
  it('connection reset after the relay committed: the retry carries the same key, the third party sees it once', async () => {
    const c = await activated();
    relay.faults.set('send', [{ kind: 'reset-after-commit' }]);
    const key = crypto.randomUUID();
    const result = await c.send({ connection: 'shop-1', idempotencyKey: key, body: message(2) });
    expect(result.replayed).toBe(true);
    expect(relay.effects.get(key)).toBe(1);
  });

  it('503 with Retry-After: waits at least that long, then succeeds; a new proof per attempt', async () => {
    const slept: number[] = [];
    const c = await activated({ sleep: async (ms) => void slept.push(ms) });
    relay.faults.set('send', [
      {
        kind: 'status',
        status: 503,
        retryAfter: '2',
        body: {
          type: 'about:blank',
          title: 'marketplace down',
          status: 503,
          retryable: true,
          upstream: 'marketplace',
        },
      },
    ]);
    const key = crypto.randomUUID();
    await expect(
      c.send({ connection: 'shop-1', idempotencyKey: key, body: message(3) }),
    ).resolves.toMatchObject({ status: 'delivered' });
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(2000);
    expect(relay.effects.get(key)).toBe(1);
  });

  it('a long Retry-After ends in-process retrying and hands the wait to the caller (the outbox)', async () => {
    const c = await activated();
    relay.faults.set('send', [{ kind: 'status', status: 503, retryAfter: '3600' }]);
    const error = await c
      .send({ connection: 'shop-1', idempotencyKey: crypto.randomUUID(), body: message(4) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE',
      retryable: true,
      retryAfterMs: 3_600_000,
      status: 503,
    });
    expect((error as Error).name).toBe('UpstreamUnavailableError');
  });

  it('a slow relay hits the headers timeout (RelayTimeoutError, retryable)', async () => {
    const c = await activated({ timeouts: { headersMs: 300 }, retry: { attempts: 1 } });
    relay.faults.set('status', [{ kind: 'delay', ms: 1500 }]);
    await expect(c.status()).rejects.toMatchObject({ code: 'ERR_RELAY_TIMEOUT', retryable: true });
  });

  it('a relay that is down: RelayConnectionError after the in-process attempts', async () => {
    const down = await startRelay(pki);
    const c = await activated({}, down);
    await down.close();
    const error = await c.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_RELAY_CONNECTION', retryable: true });
    expect((error as Error).name).toBe('RelayConnectionError');
  });

  it('a request that is neither idempotent nor keyed is never retried', async () => {
    const c = await client();
    relay.faults.set('activate', [{ kind: 'status', status: 503, retryAfter: '0' }]);
    const before = relay.hits.get('activate') ?? 0;
    await expect(
      c.activate({ body: { licenseKey: await relay.issueKey() } }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE' });
    expect((relay.hits.get('activate') ?? 0) - before).toBe(1);
  });

  it('an undeclared status and a body that breaks the contract are errors of their own', async () => {
    const c = await activated({ retry: { attempts: 1 } });
    relay.faults.set('status', [{ kind: 'status', status: 418 }]);
    await expect(c.status()).rejects.toMatchObject({
      code: 'ERR_RELAY_UNEXPECTED_STATUS',
      status: 418,
    });
    relay.faults.set('ack', [{ kind: 'status', status: 200, raw: '{"acked":"many"}' }]);
    await expect(c.ack({ body: { ids: ['x'] } })).rejects.toMatchObject({
      code: 'ERR_RELAY_RESPONSE_VALIDATION',
    });
  });

  it('bad input is refused before anything is sent, and the error never echoes secret values', async () => {
    const c = await activated();
    const before = relay.hits.get('putCredentials') ?? 0;
    const error = await c
      .putCredentials({
        connection: 'Shop 1!',
        body: { kind: 'api-key', fields: { apiKey: 'TOP-SECRET-VALUE', 'bad key': 'x' } },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_RELAY_REQUEST_VALIDATION', retryable: false });
    expect(String((error as Error).message)).not.toContain('TOP-SECRET-VALUE');
    expect(relay.hits.get('putCredentials') ?? 0).toBe(before);
    await expect(
      c.send({ connection: 'shop-1', idempotencyKey: 'not-a-uuid', body: message() }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_VALIDATION' });
    await expect(
      c.send({
        connection: 'shop-1',
        idempotencyKey: crypto.randomUUID(),
        body: { ...message(), extra: 1 } as never,
      }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_REQUEST_VALIDATION' });
  });

  it('reusing an idempotency key with another body is an IdempotencyConflictError, not retried', async () => {
    const c = await activated();
    const key = crypto.randomUUID();
    await c.send({ connection: 'shop-1', idempotencyKey: key, body: message(5) });
    await expect(
      c.send({ connection: 'shop-1', idempotencyKey: key, body: message(6) }),
    ).rejects.toMatchObject({ code: 'ERR_RELAY_IDEMPOTENCY_CONFLICT', retryable: false });
  });

  it('an aborted call stops at once', async () => {
    const c = await activated();
    relay.faults.set('status', [{ kind: 'delay', ms: 2000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(c.status({}, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_RELAY_ABORTED',
    });
  });
});

describe('DPoP details', () => {
  it('answers the server nonce challenge once and carries on', async () => {
    const strict = await startRelay(pki, { nonces: true });
    try {
      const c = await client({}, strict);
      await expect(
        c.activate({ body: { licenseKey: await strict.issueKey() } }),
      ).resolves.toBeDefined();
      expect(strict.hits.get('activate')).toBe(2);
      await expect(c.status()).resolves.toBeDefined();
      expect(strict.hits.get('status')).toBe(1);
    } finally {
      await strict.close();
    }
  });

  it('refreshes an expired access token by itself', async () => {
    let clock = Date.now();
    const c = await activated({ now: () => clock });
    const before = relay.hits.get('refreshToken') ?? 0;
    clock += 20 * 60_000;
    await expect(c.status()).resolves.toBeDefined();
    expect((relay.hits.get('refreshToken') ?? 0) - before).toBe(1);
  });
});
