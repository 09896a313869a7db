/** SMS: E.164 validation, the in-memory sink, and the HTTP adapter against a local server. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpSmsTransport, isE164, SmsSendError, smsSink } from '../src/server/sms.ts';

describe('E.164', () => {
  it('accepts international numbers and refuses everything else', () => {
    for (const ok of ['+4915112345678', '+12025550123', '+491', '+123456789012345'])
      expect(isE164(ok), ok).toBe(true);
    for (const bad of [
      '015112345678',
      '+0151123',
      '+1234567890123456',
      '+49 151 1234',
      '+49-151',
      '+',
      '',
      '4915112345678',
      '+49151a',
    ]) {
      expect(isE164(bad), bad).toBe(false);
    }
  });
});

describe('smsSink', () => {
  it('keeps messages, resolves waitFor and validates', async () => {
    const sink = smsSink();
    const waiting = sink.waitFor((m) => m.to === '+4915112345678');
    await sink.send({ to: '+4915112345678', text: 'Ihr Code: 123456' });
    expect(await waiting).toEqual({ to: '+4915112345678', text: 'Ihr Code: 123456' });
    await expect(sink.send({ to: '0151 1234', text: 'x' })).rejects.toThrow(RangeError);
    await expect(sink.send({ to: '+4915112345678', text: '' })).rejects.toThrow(RangeError);
    expect(sink.messages).toHaveLength(1);
    await expect(sink.waitFor((m) => m.text === 'nope', 30)).rejects.toThrow();
  });
});

describe('httpSmsTransport', () => {
  interface Received {
    method: string | undefined;
    url: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }
  const received: Received[] = [];
  let status = 202;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? { id: 'msg_1' } : { error: 'quota exceeded' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/messages`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs the documented JSON with the bearer token', async () => {
    const sms = httpSmsTransport({ url, token: 'tok_secret_123', from: 'Fluxel' });
    await sms.send({ to: '+4915112345678', text: 'Ihr Code: 123456 – gültig 10 Min.' });
    const request = received.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/messages');
    expect(request?.headers.authorization).toBe('Bearer tok_secret_123');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      from: 'Fluxel',
      to: '+4915112345678',
      text: 'Ihr Code: 123456 – gültig 10 Min.',
    });
  });

  it('rejects with the status on a non-2xx answer, without leaking the token', async () => {
    status = 429;
    try {
      const sms = httpSmsTransport({ url, token: 'tok_secret_123', from: 'Fluxel' });
      const error = await sms.send({ to: '+4915112345678', text: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SmsSendError);
      expect((error as SmsSendError).status).toBe(429);
      expect((error as Error).message).toContain('quota exceeded');
      expect((error as Error).message).not.toContain('tok_secret_123');
    } finally {
      status = 202;
    }
  });

  it('validates before sending and refuses plain http to remote hosts', async () => {
    const before = received.length;
    const sms = httpSmsTransport({ url, token: 't', from: 'F' });
    await expect(sms.send({ to: '015112345678', text: 'x' })).rejects.toThrow(RangeError);
    expect(received.length).toBe(before);
    expect(() =>
      httpSmsTransport({ url: 'http://sms.example.com/send', token: 't', from: 'F' }),
    ).toThrow(RangeError);
    expect(() =>
      httpSmsTransport({ url: 'https://sms.example.com/send', token: 't', from: 'F' }),
    ).not.toThrow();
  });

  it('rejects when the provider is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sms = httpSmsTransport({ url: `http://127.0.0.1:${port}/`, token: 't', from: 'F' });
    await expect(sms.send({ to: '+4915112345678', text: 'x' })).rejects.toBeInstanceOf(
      SmsSendError,
    );
  });
});
