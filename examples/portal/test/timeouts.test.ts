/**
 * The portal's HTTP timeouts (`src/server/timeouts.ts`) over raw TLS sockets: a slow body or
 * slow headers end in 408 and a closed connection, an early refusal closes the connection
 * instead of waiting for the body, and an idle keep-alive connection is closed (the options'
 * checks: `timeouts-options.test.ts`). The portal runs with short limits; every case asserts
 * what happened (answer and closed socket), never how long it took — the guard only stops a
 * hanging socket.
 */
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

let h: PortalHarness;

beforeAll(async () => {
  h = await startPortalHarness({
    timeouts: {
      requestMs: 1500,
      headersMs: 1000,
      checkIntervalMs: 200,
      connectionMs: 10_000,
      keepAliveMs: 1000,
    },
  });
});

afterAll(async () => {
  await h?.close();
});

interface Conversation {
  readonly socket: TLSSocket;
  /** Everything the server sent, once it closed the connection (or `open` after the guard). */
  readonly closed: Promise<{ text: string; open: boolean }>;
}

/** A raw TLS connection to the portal; the guard (30 s) only ends a test that would hang. */
async function open(): Promise<Conversation> {
  const url = new URL(h.portal.url);
  const socket = connect({
    host: '127.0.0.1',
    port: Number(url.port),
    ca: h.portal.tls.ca,
    servername: url.hostname,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  socket.on('error', () => {});
  const closed = new Promise<{ text: string; open: boolean }>((resolve) => {
    const guard = setTimeout(() => {
      resolve({ text, open: true });
      socket.destroy();
    }, 30_000);
    socket.once('close', () => {
      clearTimeout(guard);
      resolve({ text, open: false });
    });
  });
  return { socket, closed };
}

/** An anonymous CSRF cookie and token, so a sign-in request passes the CSRF check. */
async function csrf(): Promise<{ cookie: string; token: string }> {
  const c = h.client();
  const info = await c.session();
  return { cookie: c.cookieHeader(), token: info.csrfToken };
}

function head(path: string, headers: Record<string, string>): string {
  const url = new URL(h.portal.url);
  const lines = [`POST ${path} HTTP/1.1`, `host: ${url.host}`, `origin: ${h.portal.origin}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends a sign-in's head and only the start of its body, and returns what the server sent
 * once it closed the connection (which it must).
 */
async function unfinishedLogin(headers: Record<string, string>, bodyStart: string) {
  const c = await open();
  c.socket.write(head('/api/auth/login', headers));
  c.socket.write(bodyStart);
  const { text, open: stillOpen } = await c.closed;
  expect(stillOpen).toBe(false);
  return text;
}

const statusLines = (text: string) => text.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];

describe('request timeouts', () => {
  it('timeouts: a request body that never finishes is answered 408 and its connection closed (no request timeout before)', async () => {
    const { cookie, token } = await csrf();
    const text = await unfinishedLogin(
      {
        cookie,
        'x-csrf-token': token,
        'content-type': 'application/json',
        'content-length': '200',
      },
      '{"email":"slow@acme.test",', // … and the rest never comes
    );
    expect(statusLines(text)).toEqual(['HTTP/1.1 408']);
  });

  it('timeouts: request headers that never finish are answered 408 and the connection closed', async () => {
    const c = await open();
    c.socket.write('GET /api/session HTTP/1.1\r\nhost: localhost\r\nx-slow: 1\r\n');
    const { text, open: stillOpen } = await c.closed;
    expect(stillOpen).toBe(false);
    expect(statusLines(text)).toEqual(['HTTP/1.1 408']);
  });

  it('early refusal: a 403 (no CSRF token) sent before the body closes the connection, so a slow body cannot hold it', async () => {
    const text = await unfinishedLogin(
      { 'content-type': 'application/json', 'content-length': '200' },
      '{"email":',
    );
    // One answer — the 403 itself, saying it ends the connection — not a later 408.
    expect(statusLines(text)).toEqual(['HTTP/1.1 403']);
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it('early refusal: a 413 for an announced oversize body closes the connection', async () => {
    const { cookie, token } = await csrf();
    const text = await unfinishedLogin(
      {
        cookie,
        'x-csrf-token': token,
        'content-type': 'application/json',
        'content-length': String(10 * 1024 * 1024),
      },
      '{"email":',
    );
    expect(statusLines(text)).toEqual(['HTTP/1.1 413']);
    expect(text.toLowerCase()).toContain('connection: close');
  });

  it('keep-alive: a complete request keeps its connection, which is closed once idle', async () => {
    const c = await open();
    const url = new URL(h.portal.url);
    c.socket.write(`GET /api/session HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    const { text, open: stillOpen } = await c.closed;
    expect(stillOpen).toBe(false);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200']);
    expect(text.toLowerCase()).toContain('connection: keep-alive');
  });
});
