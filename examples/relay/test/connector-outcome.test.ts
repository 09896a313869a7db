/**
 * The counterpart connector tells "not executed" from "unknown outcome" (issue 21) against real
 * servers: a refused connection, a failed TLS handshake and a 503 were not executed; a timeout
 * after the request was written, a connection dropped after it, and a 500/502 may have been.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCounterpart } from '@fluxel-example/counterpart';
import { ensureDevTls } from '@fluxel-example/kit/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectorResult, counterpartConnector } from '../src/connector.ts';

const API_KEY = 'cp-outcome-key-51c9';
const call = {
  operation: 'order.status',
  payload: { order: 'A-1', status: 'shipped' },
  credentials: { kind: 'api-key', fields: { apiKey: API_KEY } },
  idempotencyKey: 'k-outcome-1',
} as const;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/** Sends `call` through a counterpart connector for `baseUrl`. */
async function send(baseUrl: string, options: { ca?: string; timeoutMs?: number } = {}) {
  const connector = counterpartConnector({ baseUrl, timeoutMs: 1000, ...options });
  cleanup.push(() => connector.close());
  return connector.send(call);
}

/** A plain HTTP server answering every request with `status`; counts the requests it read. */
async function answering(status: number): Promise<{ url: string; received: () => number }> {
  let received = 0;
  const server = createHttpServer((req, res) => {
    received++;
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, received: () => received };
}

describe('counterpart connector: not executed vs unknown outcome', () => {
  it('a refused connection was not executed: unavailable', async () => {
    const probe = createNetServer();
    const port = await listen(probe);
    await cleanup.pop()?.(); // closed again: nothing listens on the port now
    expect(await send(`http://127.0.0.1:${port}`)).toEqual({ kind: 'unavailable' });
  });

  it('a failed TLS handshake (untrusted certificate) was not executed: unavailable', async () => {
    const tls = ensureDevTls(join(mkdtempSync(join(tmpdir(), 'fluxel-outcome-')), 'tls'));
    let received = 0;
    const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      received++;
      res.end('{}');
    });
    server.on('tlsClientError', () => {}); // the connector refuses the certificate
    const port = await listen(server);
    // No `ca`: the dev CA is not trusted, verification stays on, the handshake fails.
    expect(await send(`https://127.0.0.1:${port}`)).toEqual({ kind: 'unavailable' });
    expect(received).toBe(0);
  });

  it('503 / 429 / 408 mean "not processed": unavailable, with the Retry-After', async () => {
    const counterpart = await createCounterpart({ apiKey: API_KEY, down: true });
    cleanup.push(() => counterpart.close());
    expect(await send(counterpart.url)).toEqual({
      kind: 'unavailable',
      upstreamStatus: 503,
      retryAfter: 30,
    });
    for (const status of [408, 429]) {
      const server = await answering(status);
      expect(await send(server.url)).toEqual({ kind: 'unavailable', upstreamStatus: status });
    }
  });

  it('a timeout after the request was written is an unknown outcome (it was executed)', async () => {
    const counterpart = await createCounterpart({ apiKey: API_KEY, answerDelayMs: 3000 });
    cleanup.push(() => counterpart.close());
    const result = await send(counterpart.url, { timeoutMs: 500 });
    expect(result).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(counterpart.effects.map((e) => e.idempotencyKey)).toEqual([call.idempotencyKey]);
  });

  it('a connection dropped after the request was read is an unknown outcome', async () => {
    let read = 0;
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        read++;
        socket.destroy(); // read the request, then gone without an answer
      });
    });
    const port = await listen(server);
    expect(await send(`http://127.0.0.1:${port}`)).toEqual({
      kind: 'unknown',
      reason: 'connection lost',
    });
    expect(read).toBe(1);
  });

  it('500 and 502 may come after an execution: unknown; 4xx is rejected', async () => {
    const results: ConnectorResult[] = [];
    for (const status of [500, 502, 422]) results.push(await send((await answering(status)).url));
    expect(results).toEqual([
      { kind: 'unknown', reason: 'upstream error', upstreamStatus: 500 },
      { kind: 'unknown', reason: 'upstream error', upstreamStatus: 502 },
      { kind: 'rejected', upstreamStatus: 422 },
    ]);
  });

  it('a 2xx whose body is cut off was executed: delivered, without a result', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":',
        );
      });
    });
    const port = await listen(server);
    expect(await send(`http://127.0.0.1:${port}`)).toEqual({
      kind: 'delivered',
      upstreamStatus: 200,
    });
  });
});
