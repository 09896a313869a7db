/**
 * Login throttling: free attempts, exponential backoff and its cap, lockout, forgetting — the
 * pure policy, and its SQL form in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearAttempts,
  readThrottle,
  refundAttempt,
  reserveAttempt,
} from '../src/features/auth/store.ts';
import {
  ACCOUNT_POLICY,
  IP_POLICY,
  recordFailure,
  recordSuccess,
  type ThrottleRecord,
  throttleState,
} from '../src/features/auth/throttle.ts';
import { type Database, openPortalDatabase } from '../src/server/db.ts';

const t0 = 1_700_000_000_000;
const MIN = 60_000;

/** `n` failures, each as soon as it is allowed, starting at t0; returns the record. */
function failures(n: number, policy = ACCOUNT_POLICY): ThrottleRecord {
  let record: ThrottleRecord | undefined;
  let now = t0;
  for (let i = 0; i < n; i++) {
    const state = throttleState(record, now, policy);
    now += state.retryAfterMs;
    expect(throttleState(record, now, policy).allowed).toBe(true);
    record = recordFailure(record, now, policy);
  }
  return record ?? recordSuccess();
}

describe('throttle', () => {
  it('allows an unknown key', () => {
    expect(throttleState(undefined, t0)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(throttleState(recordSuccess(), t0)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('the first 3 failures cost nothing; then 1 s, 2 s, 4 s …', () => {
    for (const n of [1, 2]) {
      const r = failures(n);
      expect(throttleState(r, r.lastFailureAt)).toEqual({ allowed: true, retryAfterMs: 0 });
    }
    const delays = [3, 4, 5, 6, 7].map((n) => {
      const r = failures(n);
      return throttleState(r, r.lastFailureAt).retryAfterMs;
    });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
    const r = failures(3);
    expect(throttleState(r, r.lastFailureAt + 999)).toEqual({ allowed: false, retryAfterMs: 1 });
    expect(throttleState(r, r.lastFailureAt + 1000)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('caps the backoff at 60 s', () => {
    const r = { failures: 9, lastFailureAt: t0 };
    expect(throttleState(r, t0).retryAfterMs).toBe(60_000); // 2^6 s = 64 s → 60 s
    expect(throttleState({ failures: 8, lastFailureAt: t0 }, t0).retryAfterMs).toBe(32_000);
  });

  it('locks for 15 minutes at the 10th failure', () => {
    const nine = failures(9);
    expect(nine.lockedUntil).toBeUndefined();
    const ten = failures(10);
    expect(ten.failures).toBe(10);
    expect(ten.lockedUntil).toBe(ten.lastFailureAt + 15 * MIN);
    expect(throttleState(ten, ten.lastFailureAt + 15 * MIN - 1)).toEqual({
      allowed: false,
      retryAfterMs: 1,
    });
    expect(throttleState(ten, ten.lastFailureAt + 15 * MIN)).toEqual({
      allowed: true,
      retryAfterMs: 0,
    });
    // Each failure after the lockout locks again.
    const after = recordFailure(ten, ten.lastFailureAt + 15 * MIN);
    expect(after.failures).toBe(11);
    expect(after.lockedUntil).toBe(ten.lastFailureAt + 30 * MIN);
  });

  it('forgets failures an hour after the last one', () => {
    const r = failures(7);
    expect(throttleState(r, r.lastFailureAt + 60 * MIN - 1).allowed).toBe(true); // backoff is long over
    const later = recordFailure(r, r.lastFailureAt + 60 * MIN - 1);
    expect(later.failures).toBe(8);
    const fresh = recordFailure(r, r.lastFailureAt + 60 * MIN);
    expect(fresh).toEqual({ failures: 1, lastFailureAt: r.lastFailureAt + 60 * MIN });
  });

  it('does not forget while locked (lockout longer than the reset period)', () => {
    const policy = { ...ACCOUNT_POLICY, lockoutMs: 2 * 60 * MIN };
    const r = failures(10, policy);
    expect(throttleState(r, r.lastFailureAt + 90 * MIN, policy).allowed).toBe(false);
    expect(recordFailure(r, r.lastFailureAt + 90 * MIN, policy).failures).toBe(11);
  });

  it('recordSuccess clears the record', () => {
    expect(recordSuccess()).toEqual({ failures: 0, lastFailureAt: 0 });
    expect(recordFailure(recordSuccess(), t0)).toEqual({ failures: 1, lastFailureAt: t0 });
  });

  it('IP policy is looser: 10 free, lockout only at 50', () => {
    expect(IP_POLICY.lockoutAfter).toBe(50);
    const r = failures(10, IP_POLICY);
    expect(throttleState(r, r.lastFailureAt, IP_POLICY).retryAfterMs).toBe(1000);
    expect(throttleState(failures(9, IP_POLICY), t0 + 1, IP_POLICY).allowed).toBe(true);
    expect(failures(49, IP_POLICY).lockedUntil).toBeUndefined();
    const locked = failures(50, IP_POLICY);
    expect(locked.lockedUntil).toBe(locked.lastFailureAt + 15 * MIN);
    // The same count under the account policy would long be locked.
    expect(
      recordFailure({ failures: 20, lastFailureAt: t0 }, t0 + 60_000).lockedUntil,
    ).toBeDefined();
  });
});

/**
 * The store's SQL (`throttle-store.ts`) against the pure policy: the same attempts at the same
 * times give the same decisions and the same records, on PGlite.
 */
describe('throttle store agrees with the policy', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openPortalDatabase({});
  });
  afterAll(async () => db?.close());

  /** Attempt times: bursts, back-offs waited out or not, a lockout, an hour of silence. */
  function schedule(seed: number): number[] {
    let x = seed;
    const rand = () => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      return x / 2 ** 31;
    };
    const gaps = [0, 1, 999, 1000, 2000, 30_000, 60_000, 15 * MIN, 61 * MIN];
    const times: number[] = [];
    let now = t0;
    for (let i = 0; i < 60; i++) {
      now += gaps[Math.floor(rand() * gaps.length)] as number;
      times.push(now);
    }
    return times;
  }

  for (const [name, policy] of [
    ['account', ACCOUNT_POLICY],
    ['IP', IP_POLICY],
  ] as const)
    it(`${name} policy: reserveAttempt decides and counts as throttleState/recordFailure do`, async () => {
      let locks = 0;
      let refusals = 0;
      for (const seed of [1, 2, 3, 4]) {
        const key = `test:${name}:${seed}`;
        let expected: ThrottleRecord | undefined;
        for (const now of schedule(seed)) {
          const allowed = throttleState(expected, now, policy).allowed;
          const got = await reserveAttempt(db, [{ key, policy }], now);
          expect(got.allowed, `seed ${seed} at ${now - t0}`).toBe(allowed);
          if (allowed) expected = recordFailure(expected, now, policy);
          const stored = await readThrottle(db, key);
          if (stored?.lockedUntil !== undefined) locks++;
          if (!allowed) refusals++;
          expect(stored?.failures).toBe(expected?.failures);
          expect(stored?.lockedUntil).toBe(expected?.lockedUntil);
        }
      }
      // The schedules reach back-offs and lockouts (not only free attempts).
      expect(refusals).toBeGreaterThan(0);
      if (policy === ACCOUNT_POLICY) expect(locks).toBeGreaterThan(0);
    });

  it('a refused key takes back what the keys before it counted', async () => {
    await reserveAttempt(db, [{ key: 'test:ip', policy: ACCOUNT_POLICY }], t0);
    for (let i = 0; i < 2; i++)
      await reserveAttempt(db, [{ key: 'test:ip', policy: ACCOUNT_POLICY }], t0);
    const refused = await reserveAttempt(
      db,
      [
        { key: 'test:account', policy: ACCOUNT_POLICY },
        { key: 'test:ip', policy: ACCOUNT_POLICY },
      ],
      t0,
    );
    expect(refused).toMatchObject({ allowed: false, key: 'test:ip', locked: false });
    expect((await readThrottle(db, 'test:account'))?.failures ?? 0).toBe(0);
    expect((await readThrottle(db, 'test:ip'))?.failures).toBe(3);
  });

  it('a refund lifts a lockout only below the threshold; clearing forgets the key', async () => {
    const policy = { ...ACCOUNT_POLICY, freeAttempts: 20 };
    for (let i = 0; i < 10; i++) await reserveAttempt(db, [{ key: 'test:refund', policy }], t0);
    expect((await readThrottle(db, 'test:refund'))?.lockedUntil).toBe(t0 + 15 * MIN);
    await refundAttempt(db, { key: 'test:refund', policy });
    expect(await readThrottle(db, 'test:refund')).toEqual({ failures: 9, lastFailureAt: t0 });
    await clearAttempts(db, 'test:refund');
    expect(await readThrottle(db, 'test:refund')).toBeUndefined();
  });
});
