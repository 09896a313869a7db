/**
 * The license-row cache in front of request verification: reused for at most its TTL,
 * dropped by every update through it (so a lock here is seen at once), never keeping misses,
 * and a lost optimistic-concurrency race does not leave a stale row behind.
 */
import {
  generateKeyPair,
  LicenseAuthority,
  type LicenseStore,
  MemoryLicenseStore,
  MemoryReplayStore,
} from '@fluxel/license';
import { describe, expect, it } from 'vitest';
import { CachedLicenseStore } from '../src/license-cache.ts';

function counting(inner: LicenseStore) {
  const calls = { get: 0 };
  const store: LicenseStore = {
    insert: (r) => inner.insert(r),
    get: (id) => {
      calls.get++;
      return inner.get(id);
    },
    findByKeyHash: (h) => inner.findByKeyHash(h),
    findByRebindHash: (h) => inner.findByRebindHash(h),
    findByDevice: (j) => inner.findByDevice(j),
    update: (id, v, p) => inner.update(id, v, p),
    list: (f) => inner.list(f),
  };
  return { store, calls };
}

describe('CachedLicenseStore', () => {
  it('reuses a row within the TTL, re-reads after it, drops it on update and never caches misses', async () => {
    const memory = new MemoryLicenseStore();
    const { store, calls } = counting(memory);
    let now = 0;
    const cache = new CachedLicenseStore(store, { ttlMs: 1000, now: () => now });
    const authority = new LicenseAuthority({
      store: cache,
      pepper: new Uint8Array(32).fill(7),
      issuer: 'https://relay.test',
      signingKeys: [{ kid: 'k', privateJwk: (await generateKeyPair()).privateJwk }],
      replay: new MemoryReplayStore(),
    });
    const { license } = await authority.issue({ tenant: 't', product: 'p' });
    expect((await cache.get(license.id))?.locked).toBe(false);
    expect((await cache.get(license.id))?.locked).toBe(false);
    expect(calls.get).toBe(1);
    now = 999;
    await cache.get(license.id);
    expect(calls.get).toBe(1);
    now = 1000;
    await cache.get(license.id);
    expect(calls.get).toBe(2);

    // A lock through the same store is visible at once.
    await authority.lock(license.id);
    expect((await cache.get(license.id))?.locked).toBe(true);

    // A write elsewhere (the database directly, another instance) is seen after the TTL.
    const row = (await memory.get(license.id)) as NonNullable<
      Awaited<ReturnType<typeof memory.get>>
    >;
    await memory.update(license.id, row.version, { locked: false, updatedAt: 1 });
    expect((await cache.get(license.id))?.locked).toBe(true);
    now += 1000;
    expect((await cache.get(license.id))?.locked).toBe(false);

    // Misses are not kept.
    const before = calls.get;
    expect(await cache.get('nope')).toBeUndefined();
    expect(await cache.get('nope')).toBeUndefined();
    expect(calls.get).toBe(before + 2);
  });

  it('a stale cached version makes the update fail once, then the retry reads afresh', async () => {
    const memory = new MemoryLicenseStore();
    const cache = new CachedLicenseStore(memory, { ttlMs: 1000, now: () => 0 });
    const authority = new LicenseAuthority({
      store: cache,
      pepper: new Uint8Array(32).fill(7),
      issuer: 'https://relay.test',
      signingKeys: [{ kid: 'k', privateJwk: (await generateKeyPair()).privateJwk }],
      replay: new MemoryReplayStore(),
    });
    const { license } = await authority.issue({ tenant: 't', product: 'p' });
    await cache.get(license.id);
    // Another writer bumps the version behind the cache's back.
    const row = (await memory.get(license.id)) as NonNullable<
      Awaited<ReturnType<typeof memory.get>>
    >;
    await memory.update(license.id, row.version, { updatedAt: 2 });
    // lock() reads (stale, cached), loses the race, retries with a fresh read and succeeds.
    expect((await authority.lock(license.id)).status).toBe('locked');
  });
});
