import Fastify from 'fastify';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { acmeChallengePlugin } from '../src/fastify.ts';
import { acmeChallenges } from '../src/hono.ts';
import { MemoryChallengeStore } from '../src/index.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const store = new MemoryChallengeStore();
store.set(TOKEN, `${TOKEN}.thumb`);

describe('Hono middleware', () => {
  it('answers challenges, refuses bad tokens, and passes everything else on', async () => {
    const app = new Hono();
    app.use(acmeChallenges(store));
    app.get('/', (c) => c.text('home'));
    const hit = await app.request(`/.well-known/acme-challenge/${TOKEN}`);
    expect(hit.status).toBe(200);
    expect(await hit.text()).toBe(`${TOKEN}.thumb`);
    expect(hit.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await app.request('/.well-known/acme-challenge/..%2f..%2fetc%2fpasswd')).status).toBe(
      404,
    );
    expect((await app.request(`/.well-known/acme-challenge/${TOKEN}x`)).status).toBe(404);
    expect(
      (await app.request(`/.well-known/acme-challenge/${TOKEN}`, { method: 'POST' })).status,
    ).toBe(405);
    expect(await (await app.request('/')).text()).toBe('home');
  });
});

describe('Fastify plugin', () => {
  it('answers GET and HEAD, refuses bad tokens, leaves other routes alone', async () => {
    const app = Fastify();
    await app.register(acmeChallengePlugin(store));
    app.get('/', async () => 'home');
    try {
      const hit = await app.inject({ method: 'GET', url: `/.well-known/acme-challenge/${TOKEN}` });
      expect(hit.statusCode).toBe(200);
      expect(hit.body).toBe(`${TOKEN}.thumb`);
      expect(hit.headers['content-type']).toMatch(/^text\/plain/);
      const head = await app.inject({
        method: 'HEAD',
        url: `/.well-known/acme-challenge/${TOKEN}`,
      });
      expect(head.statusCode).toBe(200);
      expect(
        (await app.inject({ url: '/.well-known/acme-challenge/..%2f..%2fpackage.json' }))
          .statusCode,
      ).toBe(404);
      expect(
        (await app.inject({ url: `/.well-known/acme-challenge/${TOKEN.slice(1)}` })).statusCode,
      ).toBe(404);
      expect((await app.inject({ url: '/' })).body).toBe('home');
    } finally {
      await app.close();
    }
  });
});
