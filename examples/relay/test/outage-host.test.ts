/**
 * Deployment gaps 11 and 2: a Redis outage (limiter and replay store) answers a retryable 503
 * problem with Retry-After, not a 500; the HTTPS listener and the admin gRPC API bind the
 * configured `host`.
 */
import * as net from 'node:net';
import { missingDependency } from '@fluxel/internal/testing';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { afterAll, describe, expect, it } from 'vitest';
import { grpcAddress } from '../src/admin.ts';
import { type Harness, REDIS_URL, rawRequest, redisReachable, startHarness } from './helpers.ts';

const redisUrl = REDIS_URL;

const skipRedis = (await redisReachable())
  ? undefined
  : missingDependency(`Redis at ${redisUrl}`, 'start redis-server or set REDIS_URL');
if (skipRedis) console.warn(`${skipRedis}: Redis outage tests skipped`);

/**
 * A TCP proxy in front of Redis on a free loopback port. `down()` cuts every connection and
 * refuses new ones (the outage); `up()` lets connections through again.
 */
async function redisProxy() {
  const target = new URL(redisUrl);
  let open = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect({
      host: target.hostname,
      port: Number(target.port || 6379),
    });
    sockets.add(inbound);
    sockets.add(outbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as net.AddressInfo;
  const auth = target.username || target.password ? `${target.username}:${target.password}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}${target.pathname}`,
    down() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    up() {
      open = true;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Repeats `probe` until it gives `status` (the client notices the cut asynchronously). */
async function until<T extends { status: number }>(probe: () => Promise<T>, status: number) {
  let last = await probe();
  for (let i = 0; i < 50 && last.status !== status; i++) {
    await new Promise((done) => setTimeout(done, 100));
    last = await probe();
  }
  return last;
}

describe.skipIf(skipRedis)('Redis outage', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('the rate-limit hook answers 503 problem+json with Retry-After, then recovers', async () => {
    const proxy = await redisProxy();
    cleanup.push(proxy.close);
    const h = await startHarness({ relay: { redisUrl: proxy.url } });
    cleanup.push(async () => {
      proxy.up();
      await h.close();
    });
    // Before the outage: the IP limit passes, the unauthenticated call is refused with 401.
    expect((await rawRequest(h, 'GET', '/v1/status')).status).toBe(401);

    proxy.down();
    const during = await until(() => rawRequest(h, 'GET', '/v1/status'), 503);
    expect(during.status).toBe(503);
    expect(during.headers['content-type']).toContain('application/problem+json');
    expect(during.headers['retry-after']).toBe('1');
    expect(during.json).toMatchObject({
      status: 503,
      code: 'ERR_RATE_LIMIT_STORAGE',
      retryable: true,
      retryAfter: 1,
    });

    proxy.up();
    const after = await until(() => rawRequest(h, 'GET', '/v1/status'), 401);
    expect(after.status).toBe(401);
  });

  it('a replay-store failure on a signed request is a retryable 503, not a 500', async () => {
    const proxy = await redisProxy();
    cleanup.push(proxy.close);
    const h = await startHarness({ relay: { redisUrl: proxy.url, rateLimit: false } });
    cleanup.push(async () => {
      proxy.up();
      await h.close();
    });
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const activated = await rawRequest(h, 'POST', '/v1/activate', {
      device,
      body: JSON.stringify({ licenseKey: await h.issueKey() }),
    });
    expect(activated.status).toBe(201);
    const accessToken = String(activated.json?.accessToken);
    expect((await rawRequest(h, 'GET', '/v1/status', { device, accessToken })).status).toBe(200);

    proxy.down();
    const during = await until(
      () => rawRequest(h, 'GET', '/v1/status', { device, accessToken }),
      503,
    );
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.json).toMatchObject({ code: 'ERR_LICENSE_STORAGE', retryable: true });
  });
});

/** Resolves true when a TCP connection to host:port opens, false when it is refused. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

async function ipv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(0, '::1', done);
    });
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

describe('listen host', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const h of harnesses.reverse()) await h.close();
  });
  const ADMIN = { token: 'outage-host-test-admin-token-0123456789', actor: 'portal' };

  it('defaults to 127.0.0.1 for the HTTPS listener and the admin API', async () => {
    const h = await startHarness({ relay: { admin: ADMIN } });
    harnesses.push(h);
    expect(h.relay.url).toBe(`https://127.0.0.1:${h.relay.port}`);
    expect(await connects('127.0.0.1', h.relay.port)).toBe(true);
    expect(await connects('127.0.0.1', h.relay.adminPort as number)).toBe(true);
    if (await ipv6Loopback()) expect(await connects('::1', h.relay.port)).toBe(false);
  });

  it('host 0.0.0.0 binds every IPv4 address (HTTPS and admin gRPC)', async () => {
    const h = await startHarness({ relay: { host: '0.0.0.0', admin: ADMIN } });
    harnesses.push(h);
    expect(h.relay.url).toBe(`https://127.0.0.1:${h.relay.port}`);
    expect((await rawRequest(h, 'GET', '/v1/status')).status).toBe(401);
    expect(await connects('127.0.0.1', h.relay.adminPort as number)).toBe(true);
  });

  it('host ::1 binds IPv6 loopback only; admin.host overrides it', async (ctx) => {
    if (!(await ipv6Loopback())) ctx.skip();
    const h = await startHarness({
      relay: { host: '::1', admin: { ...ADMIN, host: '127.0.0.1' } },
    });
    harnesses.push(h);
    expect(h.relay.url).toBe(`https://[::1]:${h.relay.port}`);
    expect(await connects('::1', h.relay.port)).toBe(true);
    expect(await connects('127.0.0.1', h.relay.port)).toBe(false);
    const adminPort = h.relay.adminPort as number;
    expect(await connects('127.0.0.1', adminPort)).toBe(true);
    expect(await connects('::1', adminPort)).toBe(false);
  });

  it('grpcAddress brackets IPv6 literals', () => {
    expect(grpcAddress('::1', 8444)).toBe('[::1]:8444');
    expect(grpcAddress('0.0.0.0', 8444)).toBe('0.0.0.0:8444');
    expect(grpcAddress('[::]', 1)).toBe('[::]:1');
  });
});
