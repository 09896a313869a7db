import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUndiciTransport } from '../src/node.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? '10');
    const body = Buffer.alloc(size, 0x61);
    if (req.url?.startsWith('/chunked')) {
      // No Content-Length: two chunks, the body's size is only known by counting.
      res.writeHead(200, { 'content-type': 'text/plain', 'X-Mixed-Case': 'yes' });
      res.write(body.subarray(0, size >> 1));
      res.end(body.subarray(size >> 1));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(size) });
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('undici transport', () => {
  const get = (path: string) => ({ method: 'GET', url: `${base}${path}`, headers: {} });

  it('reads a body with and without Content-Length, header names in lower case', async () => {
    const transport = createUndiciTransport({ proxy: false, maxResponseBytes: 100 });
    try {
      const sized = await transport(get('/sized?size=100'));
      expect(new TextDecoder().decode(sized.body)).toBe('a'.repeat(100));
      expect(sized.headers['content-length']).toBe('100');
      const chunked = await transport(get('/chunked?size=100'));
      expect(new TextDecoder().decode(chunked.body)).toBe('a'.repeat(100));
      expect(chunked.headers['x-mixed-case']).toBe('yes');
    } finally {
      await transport.close();
    }
  });

  it('refuses a response larger than maxResponseBytes, whether its length is declared or counted', async () => {
    const transport = createUndiciTransport({ proxy: false, maxResponseBytes: 100 });
    try {
      for (const path of ['/sized?size=101', '/chunked?size=101'])
        await expect(transport(get(path))).rejects.toMatchObject({
          code: 'ERR_RELAY_PROBLEM',
          message: expect.stringContaining('larger than 100 bytes'),
        });
      // The connection pool still works afterwards.
      expect((await transport(get('/sized?size=5'))).body.length).toBe(5);
    } finally {
      await transport.close();
    }
  });

  it('publishes method, path and status on the diagnostics channels, never the query', async () => {
    const transport = createUndiciTransport({ proxy: false });
    const seen: unknown[] = [];
    const onMessage = (message: unknown) => seen.push(message);
    subscribe('fluxel:relay-client:request', onMessage);
    subscribe('fluxel:relay-client:response', onMessage);
    try {
      await transport(get('/sized?size=3'));
      expect(seen).toEqual([
        { method: 'GET', path: '/sized' },
        { method: 'GET', path: '/sized', status: 200, durationMs: expect.any(Number) },
      ]);
    } finally {
      unsubscribe('fluxel:relay-client:request', onMessage);
      unsubscribe('fluxel:relay-client:response', onMessage);
      await transport.close();
    }
  });
});
