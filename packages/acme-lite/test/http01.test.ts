import { createServer, request } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { isValidToken, MemoryChallengeStore, respondToChallenge } from '../src/index.ts';
import { challengeListener, startChallengeServer } from '../src/node.ts';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';

function get(port: number, path: string, method = 'GET') {
  return new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

describe('HTTP-01 tokens', () => {
  it('accepts base64url tokens only', () => {
    expect(isValidToken(TOKEN)).toBe(true);
    for (const bad of [
      '',
      'short',
      '../../etc/passwd',
      `${TOKEN}/x`,
      `${TOKEN}.`,
      `%2e%2e${TOKEN}`,
      'a'.repeat(257),
    ])
      expect(isValidToken(bad)).toBe(false);
  });

  it('answers exact matches only; traversal, prefixes and other methods are refused', async () => {
    const store = new MemoryChallengeStore();
    store.set(TOKEN, `${TOKEN}.thumb`);
    const at = (p: string, m = 'GET') => respondToChallenge(store, m, p);
    expect(await at(`/.well-known/acme-challenge/${TOKEN}`)).toMatchObject({
      status: 200,
      body: `${TOKEN}.thumb`,
    });
    expect(await at(`/.well-known/acme-challenge/${TOKEN}?x=1`)).toMatchObject({ status: 200 });
    expect(await at(`/.well-known/acme-challenge/${TOKEN.slice(0, -1)}`)).toMatchObject({
      status: 404,
    });
    expect(await at(`/.well-known/acme-challenge/${TOKEN}/`)).toMatchObject({ status: 404 });
    expect(await at('/.well-known/acme-challenge/../../../etc/passwd')).toMatchObject({
      status: 404,
    });
    expect(await at(`/.well-known/acme-challenge/..%2f${TOKEN}`)).toMatchObject({ status: 404 });
    expect(await at(`/.well-known/acme-challenge/${TOKEN}`, 'POST')).toMatchObject({ status: 405 });
    expect(await at(`/.well-known/acme-challenge/${TOKEN}`, 'HEAD')).toMatchObject({
      status: 200,
      body: '',
    });
    expect(await at('/index.html')).toBeUndefined();
    store.delete(TOKEN);
    expect(await at(`/.well-known/acme-challenge/${TOKEN}`)).toMatchObject({ status: 404 });
  });

  it('MemoryChallengeStore.fetched() settles after the last fetch of the token, not before', async () => {
    vi.useFakeTimers();
    try {
      const store = new MemoryChallengeStore();
      store.set(TOKEN, 'ka');
      let settled = false;
      const done = store.fetched(TOKEN, 20).then(() => {
        settled = true;
      });
      store.get('other-token-abcdefgh');
      await vi.advanceTimersByTimeAsync(100);
      expect(settled).toBe(false); // nobody fetched our token yet
      store.get(TOKEN);
      await vi.advanceTimersByTimeAsync(15);
      store.get(TOKEN); // a second validator: the timer restarts
      await vi.advanceTimersByTimeAsync(15);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(5);
      await done;
      expect(settled).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a shared store lets every instance answer (two servers, one store)', async () => {
    const shared = new Map<string, string>();
    const store = {
      set: async (t: string, v: string) => void shared.set(t, v),
      get: async (t: string) => shared.get(t),
      delete: async (t: string) => void shared.delete(t),
    };
    const a = await startChallengeServer({ port: 0, host: '127.0.0.1', store });
    const b = createServer(challengeListener(store, (_req, res) => res.end('app route')));
    await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
    const bPort = (b.address() as { port: number }).port;
    try {
      await store.set(TOKEN, 'key-auth');
      expect(await get(a.port, `/.well-known/acme-challenge/${TOKEN}`)).toMatchObject({
        status: 200,
        body: 'key-auth',
        type: 'text/plain; charset=utf-8',
      });
      expect(await get(bPort, `/.well-known/acme-challenge/${TOKEN}`)).toMatchObject({
        status: 200,
        body: 'key-auth',
      });
      expect(await get(bPort, '/orders')).toMatchObject({ status: 200, body: 'app route' });
      expect(await get(a.port, '/orders')).toMatchObject({ status: 404 });
      expect(await get(a.port, '/.well-known/acme-challenge/..%2F..%2Fpackage.json')).toMatchObject(
        { status: 404 },
      );
    } finally {
      await a.close();
      await new Promise((r) => b.close(r));
    }
  });
});
