/**
 * What Pebble 2.4 lacks — ACME profiles, ARI (RFC 9773), Retry-After and 429 rate limits —
 * against the in-repo stand-in server (test/standin.ts).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcmeClient,
  exportKeyPem,
  generateAccountKey,
  generateCertKey,
  MemoryChallengeStore,
  parseCertificatePem,
} from '../src/index.ts';
import { type Clock, FileCertificateStore, RenewalManager } from '../src/node.ts';
import { type StandIn, startStandIn } from './standin.ts';

let ca: StandIn;
beforeAll(async () => {
  ca = await startStandIn();
});
afterAll(() => ca?.close());

async function client(
  sleeps: number[] = [],
  extra: Partial<ConstructorParameters<typeof AcmeClient>[0]> = {},
) {
  const c = new AcmeClient({
    directoryUrl: ca.directoryUrl,
    accountKey: (await generateAccountKey()).key,
    sleep: async (ms) => void sleeps.push(ms),
    ...extra,
  });
  await c.createAccount({ contact: ['ops@example.org'] });
  return c;
}

describe('against the stand-in CA', () => {
  it('orders with a profile the CA advertises and refuses unknown ones before asking', async () => {
    const c = await client();
    expect(Object.keys((await c.directory()).meta?.profiles ?? {})).toEqual([
      'classic',
      'shortlived',
    ]);
    const issued = await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
      profile: 'shortlived',
    });
    expect(issued.profile).toBe('shortlived');
    expect(ca.seen.profiles.at(-1)).toBe('shortlived');
    const before = ca.seen.profiles.length;
    await expect(
      c.newOrder({ identifiers: ['standin.test'], profile: 'tlsserver' }),
    ).rejects.toMatchObject({
      code: 'ERR_ACME_INVALID_ARGUMENT',
      message: /no profile "tlsserver"/,
    });
    expect(ca.seen.profiles.length).toBe(before);
  });

  it('honours Retry-After in both forms while polling, and does not sleep when the answer is there', async () => {
    const sleeps: number[] = [];
    const c = await client(sleeps);
    // A shared store without the optional fetched() signal: the client polls on its schedule.
    const map = new Map<string, string>();
    const shared = {
      set: (t: string, v: string) => void map.set(t, v),
      get: (t: string) => map.get(t),
      delete: (t: string) => void map.delete(t),
    };
    await c.issue({ identifiers: ['standin.test'], challengeStore: shared });
    // order pending with an HTTP-date 2 s ahead (second resolution: 1–2 s left),
    // then processing with "Retry-After: 1" → exactly 1000 ms.
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThan(900);
    expect(sleeps[0]).toBeLessThanOrEqual(2000);
    expect(sleeps[1]).toBe(1000);
  });

  it('with a store that reports the CA fetch, waits for it (at most a second) before the first poll', async () => {
    const sleeps: number[] = [];
    const c = await client(sleeps);
    // The stand-in never fetches the token, so the wait runs out after 1 s (then Retry-After rules).
    await c.issue({ identifiers: ['standin.test'], challengeStore: new MemoryChallengeStore() });
    expect(sleeps[0]).toBe(1000);
    expect(sleeps.slice(1).every((ms) => ms >= 900 && ms <= 2000)).toBe(true);
  });

  it('gives up at the deadline with ERR_ACME_TIMEOUT, never polling faster than Retry-After', async () => {
    const sleeps: number[] = [];
    const c = await client([], {
      pollTimeoutMs: 2500,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    ca.stall(true);
    try {
      await expect(
        c.issue({ identifiers: ['standin.test'], challengeStore: new MemoryChallengeStore() }),
      ).rejects.toMatchObject({ code: 'ERR_ACME_TIMEOUT' });
    } finally {
      ca.stall(false);
    }
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(sleeps.length).toBeLessThanOrEqual(2);
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(1000); // the stand-in says Retry-After: 1
  });

  it('maps 429 to ERR_ACME_RATE_LIMITED with the Retry-After, and the manager waits at least that long', async () => {
    const c = await client();
    ca.rateLimit(1, '3600');
    await expect(c.newOrder({ identifiers: ['standin.test'] })).rejects.toMatchObject({
      code: 'ERR_ACME_RATE_LIMITED',
      retryAfterMs: 3_600_000,
    });

    ca.rateLimit(1, new Date(Date.now() + 7200_000).toUTCString());
    const timers: { fn: () => void; ms: number }[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => timers.push({ fn, ms }),
      clearTimeout: () => {},
    };
    const store = new FileCertificateStore({
      root: mkdtempSync(join(tmpdir(), 'acme-lite-429-')),
      directoryUrl: ca.directoryUrl,
    });
    const manager = new RenewalManager({
      store,
      client: async () => c,
      challengeStore: new MemoryChallengeStore(),
      certificates: [['standin.test']],
      clock,
      random: () => 0,
    });
    const failed = new Promise<{ retryInMs: number; error: unknown }>((r) =>
      manager.once('failed', r),
    );
    await manager.start();
    expect(timers[0]?.ms).toBe(0); // missing → now
    timers[0]?.fn();
    const failure = await failed;
    expect(failure.error).toMatchObject({ code: 'ERR_ACME_RATE_LIMITED' });
    expect(failure.retryInMs).toBeGreaterThan(7_190_000);
    expect(timers.at(-1)?.ms).toBe(failure.retryInMs);
    // The retry then succeeds and schedules by ARI.
    const renewed = new Promise((r) => manager.once('renewed', r));
    const scheduled: string[] = [];
    manager.on('scheduled', (e) => scheduled.push(e.source));
    timers.at(-1)?.fn();
    await renewed;
    await new Promise((r) => setTimeout(r, 50));
    manager.stop();
    // The window is 5 days away but the CA said "Retry-After: 21600": ask ARI again in 6 h.
    expect(scheduled).toEqual(['recheck']);
    expect(timers.at(-1)?.ms).toBeGreaterThan(21_600_000 - 5_000);
    expect(timers.at(-1)?.ms).toBeLessThanOrEqual(21_600_000);
    const due = await manager.dueAt(['standin.test']);
    expect(due.source).toBe('ari');
    expect(due.at.getTime()).toBeGreaterThanOrEqual(Date.parse(ca.window.start));
    expect(due.at.getTime()).toBeLessThanOrEqual(Date.parse(ca.window.end));
  });

  it('reads ARI renewal info by certificate id, and sends replaces on the renewal order', async () => {
    const c = await client();
    const first = await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
    });
    const info = await c.renewalInfo(first.certPem);
    const id = parseCertificatePem(first.certPem).ariId;
    expect(ca.seen.ariQueries.at(-1)).toBe(id);
    expect(info).toMatchObject({
      explanationURL: 'https://standin.test/why',
      retryAfterMs: 21_600_000,
    });
    expect(info?.suggestedWindow.start.toISOString()).toBe(ca.window.start);
    await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
      ...(id ? { replaces: id } : {}),
    });
    expect(ca.seen.replaces.at(-1)).toBe(id);
  });

  it('retries badNonce with the fresh nonce, and gives up with ERR_ACME_BAD_NONCE past the budget', async () => {
    const c = new AcmeClient({
      directoryUrl: ca.directoryUrl,
      accountKey: (await generateAccountKey()).key,
      badNonceRetries: 3,
    });
    ca.rejectNonces(true);
    try {
      await expect(c.createAccount()).rejects.toMatchObject({ code: 'ERR_ACME_BAD_NONCE' });
    } finally {
      ca.rejectNonces(false);
    }
    expect((await c.createAccount()).status).toBe('valid');
  });

  it('refuses a path-traversal token from the CA before storing anything', async () => {
    const c = await client();
    const store = new MemoryChallengeStore();
    ca.badToken('../../../../etc/passwd');
    try {
      await expect(
        c.issue({ identifiers: ['standin.test'], challengeStore: store }),
      ).rejects.toMatchObject({ code: 'ERR_ACME_INVALID_TOKEN' });
    } finally {
      ca.badToken(undefined);
    }
    expect(store.size).toBe(0);
  });

  it("uses the caller's certificate key when given one", async () => {
    const c = await client();
    const certKey = await generateCertKey({ type: 'rsa', bits: 3072 });
    const issued = await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
      certKey,
    });
    expect(issued.keyPem).toBe(await exportKeyPem(certKey.privateKey));
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', certKey.publicKey));
    expect(
      new X509Certificate(issued.certPem).publicKey
        .export({ type: 'spki', format: 'der' })
        .equals(spki),
    ).toBe(true);
  });

  it('picks the alternate chain named by preferredChain, else the default', async () => {
    const c = await client();
    const preferred = await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
      preferredChain: 'Stand-in Alternate Root X2',
    });
    expect(parseCertificatePem(preferred.chainPem).subject).toBe('CN=Stand-in Alternate Root X2');
    const fallback = await c.issue({
      identifiers: ['standin.test'],
      challengeStore: new MemoryChallengeStore(),
      preferredChain: 'No Such Root',
    });
    expect(parseCertificatePem(fallback.chainPem).subject).toBe('CN=Stand-in Root R1');
  });
});
