/**
 * Sign-in limits and one-time secrets under concurrency: each case fires N competing requests
 * at once, every one on a connection of its own (`race.ts`), and asserts the policy exactly —
 * at most the allowed attempts evaluated, the counter equal to them, exactly one success for
 * a single-use secret, and valid attempts within the allowance never refused. Shared by
 * `concurrency-auth.test.ts` (PGlite) and `concurrency-auth-postgres.test.ts` (PostgreSQL,
 * own schema, a connection pool); each case is named after what it protects.
 *
 * The portal runs on a frozen clock (`FrozenClock`), moved only by the tests: a back-off of
 * 1 s cannot run out while a slow machine is still sending, so "at most 3" is exactly 3.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT_POLICY,
  IP_POLICY,
  type ThrottlePolicy,
  type ThrottleRecord,
  throttleState,
} from '../src/features/auth/throttle.ts';
import { totpCode } from '../src/features/auth/totp.ts';
import type { SessionInfo } from '../src/shared/api.ts';
import { softRegistration } from './concurrency-auth-webauthn.ts';
import {
  PASSWORD,
  type PortalHarness,
  type Response,
  type SignedUp,
  type TestClient,
} from './helpers.ts';
import { closeAll, firing, onSeparateConnections, race } from './race.ts';

/** The portal's clock in these tests: stands still until a test moves it. */
export interface FrozenClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export function frozenClock(start = Date.now()): FrozenClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

/** Contenders per race. */
export const N = 20;
const TENANT = 'acme';
const WRONG_PASSWORD = 'ein falsches Passwort für Tests';

export function authConcurrencyCases(harness: () => PortalHarness, clock: FrozenClock): void {
  const h = () => harness();
  let serial = 0;
  const address = (what: string) => `${what}-${++serial}@acme.test`;

  beforeAll(async () => {
    await h().portal.createTenant(TENANT, 'Acme GmbH', 'customer');
  });
  // Every case starts with no failures counted (they all come from 127.0.0.1).
  beforeEach(async () => {
    await h().portal.db.query('DELETE FROM portal_throttle');
    clock.advance(60_000);
  });

  /** Fires `attempt` on N (or `n`) separate connections carrying `client`'s session at once. */
  const fire = firing(() => h().portal.tls.ca, N);
  const statuses = (responses: readonly Response<unknown>[]) => {
    const out: Record<number, number> = {};
    for (const r of responses) out[r.status] = (out[r.status] ?? 0) + 1;
    return out;
  };
  const codes = (responses: readonly Response<unknown>[]) =>
    responses.map((r) => (r.body as { code?: string } | undefined)?.code ?? String(r.status));
  /** The stored throttle record of `key` (read directly: the test judges the store). */
  async function readThrottle(key: string): Promise<ThrottleRecord | undefined> {
    const { rows } = await h().portal.db.query(
      'SELECT failures, last_failure_at, locked_until FROM portal_throttle WHERE key = $1',
      [key],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      failures: Number(r.failures),
      lastFailureAt: Number(r.last_failure_at),
      ...(r.locked_until == null ? {} : { lockedUntil: Number(r.locked_until) }),
    };
  }
  const failures = async (key: string) => (await readThrottle(key))?.failures ?? 0;
  /** How many accounts have `email`. */
  async function accountsWith(email: string): Promise<number> {
    const { rows } = await h().portal.db.query(
      'SELECT count(*)::int AS n FROM portal_users WHERE email = $1',
      [email],
    );
    return Number(rows[0]?.n);
  }
  /** The one IP key (`ip:127.0.0.1` or its IPv6-mapped form). */
  async function ipKey(prefix = 'ip:'): Promise<string> {
    const { rows } = await h().portal.db.query(
      'SELECT key FROM portal_throttle WHERE key LIKE $1',
      [`${prefix}%`],
    );
    expect(rows).toHaveLength(1);
    return String(rows[0]?.key);
  }
  /** Moves the clock to the moment `key` may try again. */
  async function waitOut(key: string, policy: ThrottlePolicy): Promise<void> {
    const state = throttleState(await readThrottle(key), clock.now(), policy);
    clock.advance(state.retryAfterMs);
  }
  /** A TOTP code at the portal's clock. */
  const totp = (secret: string) => totpCode(secret, clock.now());
  /** A code TOTP never accepts now (none of the steps in the ±1 window). */
  function wrongTotp(secret: string): string {
    const valid = new Set([-1, 0, 1].map((s) => totpCode(secret, clock.now() + s * 30_000)));
    let n = 0;
    while (valid.has(String(n).padStart(6, '0'))) n++;
    return String(n).padStart(6, '0');
  }

  async function signUp(what: string): Promise<SignedUp & { email: string }> {
    // `h.signUp` takes its TOTP code at `Date.now() + h.clock.offsetMs`, so real time passes
    // between here and its code while the portal's clock stands still. Start at a TOTP step's
    // beginning: then that code is of the portal's current step however slow the machine is.
    // (Near a step's end, a busy CI machine crossed it: enrolment recorded the next step as
    // used, and the case's own code a step later was refused as a replay — 401.)
    clock.advance((30_000 - (clock.now() % 30_000)) % 30_000);
    h().clock.offsetMs = clock.now() - Date.now();
    const email = address(what);
    return { ...(await h().signUp(email, 'customer', TENANT)), email };
  }
  async function anonymous(): Promise<TestClient> {
    const c = h().client();
    await c.session();
    return c;
  }
  /** A client past the password, the second factor pending. */
  async function pending(email: string): Promise<TestClient> {
    const c = await anonymous();
    const res = await c.post<SessionInfo>('/api/auth/login', { email, password: PASSWORD });
    expect(res.status, res.text).toBe(200);
    expect(res.body.stage).toBe('password');
    return c;
  }
  /** A fresh invitee at stage `enrol` (no factor yet). */
  async function invitee(what: string): Promise<{ client: TestClient; email: string }> {
    const email = address(what);
    const token = await h().portal.invite(email, 'customer', TENANT);
    const client = await anonymous();
    const res = await client.post(`/api/invitations/${token}/accept`, {
      name: 'Erika Mustermann',
      password: PASSWORD,
    });
    expect(res.status, res.text).toBe(200);
    return { client, email };
  }
  async function reauth(s: SignedUp): Promise<void> {
    clock.advance(30_000);
    const res = await s.client.post('/api/auth/reauth', {
      password: PASSWORD,
      method: 'totp',
      code: totp(s.secret),
    });
    expect(res.status, res.text).toBe(200);
  }
  const lastCode = (text: string) => /(\d{6})/.exec(text)?.[1] as string;
  async function mailCode(email: string, count: number): Promise<string> {
    await h().smtp.waitFor(
      () => h().smtp.messages.filter((m) => m.to.includes(email)).length >= count,
    );
    const mails = h().smtp.messages.filter((m) => m.to.includes(email));
    return lastCode(mails.at(-1)?.text ?? '');
  }
  async function smsCode(phone: string, count: number): Promise<string> {
    await h().sms.waitFor(() => h().sms.messages.filter((m) => m.to === phone).length >= count);
    return lastCode(
      h()
        .sms.messages.filter((m) => m.to === phone)
        .at(-1)?.text ?? '',
    );
  }
  let phones = 0;
  /** A signed-up user with a second factor on `channel` confirmed (TOTP too, for SMS). */
  async function withChannel(channel: 'email' | 'sms') {
    const s = await signUp(`${channel}-user`);
    await reauth(s);
    const phone = `+49151${String(1_000_000 + ++phones)}`;
    clock.advance(31_000);
    const start =
      channel === 'email'
        ? await s.client.post('/api/enrol/email/start')
        : await s.client.post('/api/enrol/sms/start', { phone });
    expect(start.status, start.text).toBe(204);
    const confirm = await s.client.post(`/api/enrol/${channel}/confirm`, {
      code: channel === 'email' ? await mailCode(s.email, 1) : await smsCode(phone, 1),
    });
    expect(confirm.status, confirm.text).toBe(200);
    return { ...s, phone };
  }

  describe('sign-in throttle', () => {
    it('throttle: N wrong passwords at once for one account are evaluated at most 3 times, counted exactly, and the lockout holds (lost update)', async () => {
      const s = await signUp('account-throttle');
      const key = `account:${s.email}`;
      const burst = await fire(await anonymous(), (c) =>
        c.post('/api/auth/login', { email: s.email, password: WRONG_PASSWORD }),
      );
      // Three free attempts; the fourth would have to wait a second the frozen clock never gives.
      expect(statuses(burst)).toEqual({ 401: ACCOUNT_POLICY.freeAttempts, 429: N - 3 });
      expect(await failures(key)).toBe(ACCOUNT_POLICY.freeAttempts);
      // After each back-off exactly one of N evaluated, until the lockout.
      for (let n = ACCOUNT_POLICY.freeAttempts + 1; n <= ACCOUNT_POLICY.lockoutAfter; n++) {
        await waitOut(key, ACCOUNT_POLICY);
        const round = await fire(
          await anonymous(),
          (c) => c.post('/api/auth/login', { email: s.email, password: WRONG_PASSWORD }),
          8,
        );
        expect(statuses(round)).toEqual({ 401: 1, 429: 7 });
        expect(await failures(key)).toBe(n);
      }
      const locked = await (await anonymous()).post('/api/auth/login', {
        email: s.email,
        password: PASSWORD,
      });
      expect(locked.status).toBe(429);
      expect((locked.body as { code: string }).code).toBe('locked_out');
      expect(await failures(key)).toBe(ACCOUNT_POLICY.lockoutAfter);
    });

    it('throttle: N wrong passwords at once from one IP are evaluated at most 10 times, and at the IP lockout the right password is refused (lost update)', async () => {
      const s = await signUp('ip-throttle');
      const burst = await fire(await anonymous(), (c, i) =>
        c.post('/api/auth/login', { email: address(`nobody-${i}`), password: WRONG_PASSWORD }),
      );
      expect(statuses(burst)).toEqual({ 401: IP_POLICY.freeAttempts, 429: N - 10 });
      const key = await ipKey();
      expect(await failures(key)).toBe(IP_POLICY.freeAttempts);
      // One short of the IP lockout (setting the counter directly saves 39 rounds): of N wrong
      // attempts at once exactly one is evaluated, and it locks the address.
      await h().portal.db.query(
        'UPDATE portal_throttle SET failures = $2, last_failure_at = $3 WHERE key = $1',
        [key, IP_POLICY.lockoutAfter - 1, clock.now() - IP_POLICY.maxDelayMs],
      );
      const last = await fire(await anonymous(), (c, i) =>
        c.post('/api/auth/login', { email: address(`nobody-${i}`), password: WRONG_PASSWORD }),
      );
      expect(statuses(last)).toEqual({ 401: 1, 429: N - 1 });
      expect(await failures(key)).toBe(IP_POLICY.lockoutAfter);
      const locked = await (await anonymous()).post('/api/auth/login', {
        email: s.email,
        password: PASSWORD,
      });
      expect(locked.status).toBe(429);
      expect((locked.body as { code: string }).code).toBe('locked_out');
    });

    it('throttle: correct passwords sent at once from separate connections all sign in (valid attempts within the free ones are not refused)', async () => {
      const s = await signUp('two-tabs');
      const res = await fire(
        await anonymous(),
        (c) => c.post<SessionInfo>('/api/auth/login', { email: s.email, password: PASSWORD }),
        ACCOUNT_POLICY.freeAttempts,
      );
      expect(statuses(res)).toEqual({ 200: ACCOUNT_POLICY.freeAttempts });
      expect(res.every((r) => r.body.stage === 'password')).toBe(true);
      // A success clears the account's count and gives the IP its attempt back.
      expect(await failures(`account:${s.email}`)).toBe(0);
      const { rows } = await h().portal.db.query(
        "SELECT coalesce(sum(failures), 0)::int AS n FROM portal_throttle WHERE key LIKE 'ip:%'",
      );
      expect(Number(rows[0]?.n)).toBe(0);
    });
  });

  describe('second factor', () => {
    it('throttle: N wrong TOTP codes at once do not slip past the lockout (lost update)', async () => {
      const s = await signUp('totp-throttle');
      const c = await pending(s.email);
      clock.advance(30_000);
      const key = `2fa:${s.userId}`;
      const burst = await fire(c, (x) =>
        x.post('/api/auth/second-factor', { method: 'totp', code: wrongTotp(s.secret) }),
      );
      expect(statuses(burst)).toEqual({ 401: ACCOUNT_POLICY.freeAttempts, 429: N - 3 });
      expect(await failures(key)).toBe(ACCOUNT_POLICY.freeAttempts);
      // The right code has to wait too.
      const early = await c.post('/api/auth/second-factor', {
        method: 'totp',
        code: totp(s.secret),
      });
      expect(early.status).toBe(429);
      for (let n = ACCOUNT_POLICY.freeAttempts + 1; n <= ACCOUNT_POLICY.lockoutAfter; n++) {
        await waitOut(key, ACCOUNT_POLICY);
        const round = await fire(
          c,
          (x) => x.post('/api/auth/second-factor', { method: 'totp', code: wrongTotp(s.secret) }),
          8,
        );
        expect(statuses(round)).toEqual({ 401: 1, 429: 7 });
        expect(await failures(key)).toBe(n);
      }
      clock.advance(60_000); // a fresh step; still well inside the 15-minute lockout
      const locked = await c.post('/api/auth/second-factor', {
        method: 'totp',
        code: totp(s.secret),
      });
      expect(locked.status).toBe(429);
      expect((locked.body as { code: string }).code).toBe('locked_out');
    });

    it('single use: the same valid TOTP code sent N times at once signs in exactly once', async () => {
      const s = await signUp('totp-once');
      const c = await pending(s.email);
      clock.advance(30_000);
      const valid = totp(s.secret);
      const res = await fire(c, (x) =>
        x.post('/api/auth/second-factor', { method: 'totp', code: valid }),
      );
      expect(statuses(res)[200]).toBe(1);
    });

    it('single use: a TOTP code and a recovery code sent at once for one pending sign-in complete it once', async () => {
      const s = await signUp('two-factors');
      const c = await pending(s.email);
      clock.advance(30_000);
      const res = await fire(
        c,
        (x, i) =>
          x.post(
            '/api/auth/second-factor',
            i === 0
              ? { method: 'totp', code: totp(s.secret) }
              : { method: 'recovery', code: s.recoveryCodes[i] as string },
          ),
        2,
      );
      expect(statuses(res)[200], codes(res).join()).toBe(1);
      const { rows } = await h().portal.db.query(
        "SELECT count(*)::int AS n FROM portal_sessions WHERE user_id = $1 AND stage = 'full'",
        [s.userId],
      );
      // The sign-up's own session and exactly one new one.
      expect(Number(rows[0]?.n)).toBe(2);
    });

    it('single use: one recovery code sent N times at once signs in exactly once', async () => {
      const s = await signUp('recovery-once');
      const c = await pending(s.email);
      const res = await fire(c, (x) =>
        x.post('/api/auth/second-factor', {
          method: 'recovery',
          code: s.recoveryCodes[0] as string,
        }),
      );
      expect(statuses(res)[200]).toBe(1);
      const { rows } = await h().portal.db.query(
        'SELECT count(*)::int AS n FROM portal_recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL',
        [s.userId],
      );
      expect(Number(rows[0]?.n)).toBe(1);
    });

    for (const channel of ['email', 'sms'] as const) {
      it(`single use: one ${channel} code used by N sign-ins at once completes exactly one`, async () => {
        const s = await withChannel(channel);
        // N separate sign-ins, each with its own pending session.
        const clients: TestClient[] = [];
        for (let i = 0; i < 6; i++) clients.push(await pending(s.email));
        clock.advance(31_000);
        const sent = await clients[0]?.post('/api/auth/code/send', { method: channel });
        expect(sent?.status, sent?.text).toBe(204);
        const code = channel === 'email' ? await mailCode(s.email, 2) : await smsCode(s.phone, 2);
        const racers = (
          await Promise.all(clients.map((c) => onSeparateConnections(c, 1, h().portal.tls.ca)))
        ).flat();
        try {
          const res = await race(racers, (x) =>
            x.post('/api/auth/second-factor', { method: channel, code }),
          );
          expect(statuses(res)[200], codes(res).join()).toBe(1);
        } finally {
          await closeAll(racers);
        }
      });

      it(`attempt limit: N wrong ${channel} codes at once are checked at most 5 times, then the right code is refused`, async () => {
        let client: TestClient;
        let code: () => Promise<string>;
        if (channel === 'email') {
          const who = await invitee('email-guess');
          client = who.client;
          expect((await client.post('/api/enrol/email/start')).status).toBe(204);
          code = () => mailCode(who.email, 1);
        } else {
          const s = await signUp('sms-guess');
          await reauth(s);
          client = s.client;
          const phone = `+49151${String(1_000_000 + ++phones)}`;
          expect((await client.post('/api/enrol/sms/start', { phone })).status).toBe(204);
          code = () => smsCode(phone, 1);
        }
        const right = await code();
        const wrong = right === '000000' ? '000001' : '000000';
        const res = await fire(client, (x) =>
          x.post(`/api/enrol/${channel}/confirm`, { code: wrong }),
        );
        expect(statuses(res)).toEqual({ 401: N });
        const { rows } = await h().portal.db.query(
          'SELECT attempts FROM portal_codes WHERE purpose = $1 ORDER BY expires_at DESC LIMIT 1',
          [`enrol-${channel}`],
        );
        // Counted before checked: the counter stops at the limit, so no more were checked.
        expect(Number(rows[0]?.attempts)).toBe(5);
        const late = await client.post(`/api/enrol/${channel}/confirm`, { code: right });
        expect(late.status).toBe(401);
      });
    }

    it('send limit: N code requests at once send exactly one code (one per 30 s; no SMS pumping)', async () => {
      const s = await signUp('send-limit');
      await reauth(s);
      const phone = `+49151${String(1_000_000 + ++phones)}`;
      const res = await fire(s.client, (x) => x.post('/api/enrol/sms/start', { phone }));
      expect(statuses(res), codes(res).join()).toEqual({ 204: 1, 429: N - 1 });
      await smsCode(phone, 1);
      expect(h().sms.messages.filter((m) => m.to === phone)).toHaveLength(1);
      // Later, one more — up to three in 15 minutes.
      clock.advance(30_000);
      const again = await fire(s.client, (x) => x.post('/api/enrol/sms/start', { phone }));
      expect(statuses(again)).toEqual({ 204: 1, 429: N - 1 });
    });

    it('single use: one enrolment e-mail code confirmed N times at once enrols and signs in once', async () => {
      const who = await invitee('email-enrol-once');
      expect((await who.client.post('/api/enrol/email/start')).status).toBe(204);
      const code = await mailCode(who.email, 1);
      const res = await fire(who.client, (x) => x.post('/api/enrol/email/confirm', { code }));
      expect(statuses(res)[200], codes(res).join()).toBe(1);
      const { rows } = await h().portal.db.query(
        "SELECT count(*)::int AS n FROM portal_factors f JOIN portal_users u ON u.id = f.user_id WHERE u.email = $1 AND f.type = 'email'",
        [who.email],
      );
      expect(Number(rows[0]?.n)).toBe(1);
    });
  });

  describe('re-authentication', () => {
    it('throttle: N wrong passwords at once for re-authentication are evaluated at most 3 times (lost update)', async () => {
      const s = await signUp('reauth-throttle');
      clock.advance(30_000);
      const res = await fire(s.client, (x) =>
        x.post('/api/auth/reauth', {
          password: WRONG_PASSWORD,
          method: 'totp',
          code: totp(s.secret),
        }),
      );
      expect(statuses(res)).toEqual({ 401: ACCOUNT_POLICY.freeAttempts, 429: N - 3 });
      expect(await failures(`reauth:${s.userId}`)).toBe(ACCOUNT_POLICY.freeAttempts);
      const right = await s.client.post('/api/auth/reauth', {
        password: PASSWORD,
        method: 'totp',
        code: totp(s.secret),
      });
      expect(right.status).toBe(429);
    });
  });

  describe('password reset', () => {
    it('throttle: N reset requests at once from one IP send at most 10 mails (lost update)', async () => {
      const s = await signUp('reset-limit');
      const before = h().smtp.messages.filter((m) => m.to.includes(s.email)).length;
      const res = await fire(await anonymous(), (c) =>
        c.post('/api/auth/reset/request', { email: s.email }),
      );
      expect(statuses(res)).toEqual({ 204: IP_POLICY.freeAttempts, 429: N - 10 });
      expect(await failures(await ipKey('reset-ip:'))).toBe(IP_POLICY.freeAttempts);
      await h().smtp.waitFor(
        () =>
          h().smtp.messages.filter((m) => m.to.includes(s.email)).length >=
          before + IP_POLICY.freeAttempts,
      );
      const { rows } = await h().portal.db.query(
        'SELECT count(*)::int AS n FROM portal_password_resets WHERE user_id = $1',
        [s.userId],
      );
      expect(Number(rows[0]?.n)).toBe(IP_POLICY.freeAttempts);
    });

    it('single use: one reset token confirmed N times at once sets a password exactly once', async () => {
      const s = await signUp('reset-once');
      const before = h().smtp.messages.filter((m) => m.to.includes(s.email)).length;
      const req = await (await anonymous()).post('/api/auth/reset/request', { email: s.email });
      expect(req.status).toBe(204);
      await h().smtp.waitFor(
        () => h().smtp.messages.filter((m) => m.to.includes(s.email)).length > before,
      );
      const mail = h()
        .smtp.messages.filter((m) => m.to.includes(s.email))
        .at(-1);
      const token = /\/reset\/([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1] as string;
      const res = await fire(await anonymous(), (c, i) =>
        c.post('/api/auth/reset/confirm', { token, password: `${PASSWORD} Nummer ${i}` }),
      );
      expect(statuses(res)).toEqual({ 204: 1, 400: N - 1 });
      const winner = res.findIndex((r) => r.status === 204);
      const login = await (await anonymous()).post('/api/auth/login', {
        email: s.email,
        password: `${PASSWORD} Nummer ${winner}`,
      });
      expect(login.status, login.text).toBe(200);
    });
  });

  describe('invitations', () => {
    it('single use: one invitation accepted N times at once creates exactly one account', async () => {
      const email = address('invited-once');
      const token = await h().portal.invite(email, 'customer', TENANT);
      const res = await fire(await anonymous(), (c, i) =>
        c.post(`/api/invitations/${token}/accept`, { name: `Person ${i}`, password: PASSWORD }),
      );
      expect(statuses(res)).toEqual({ 200: 1, 404: N - 1 });
      const { rows } = await h().portal.db.query(
        'SELECT count(*)::int AS n FROM portal_users WHERE email = $1',
        [email],
      );
      expect(Number(rows[0]?.n)).toBe(1);
    });

    it('single use: two invitations for one address accepted at once create one account; the other gets 409 and nothing is spent', async () => {
      const email = address('invited-twice');
      const n = 8;
      const tokens: string[] = [];
      for (let i = 0; i < n; i++) tokens.push(await h().portal.invite(email, 'customer', TENANT));
      const res = await fire(
        await anonymous(),
        (c, i) =>
          c.post(`/api/invitations/${tokens[i]}/accept`, {
            name: `Person ${i}`,
            password: PASSWORD,
          }),
        n,
      );
      // One account; every other invitation is refused with a clear 409, never a 500.
      expect(statuses(res), codes(res).join()).toEqual({ 200: 1, 409: n - 1 });
      expect(codes(res).filter((c) => c === 'email_taken')).toHaveLength(n - 1);
      expect(await accountsWith(email)).toBe(1);
      // Only the winner's invitation is spent; the losers' stay as they were (until expiry).
      const { rows } = await h().portal.db.query(
        'SELECT count(*)::int AS n FROM portal_invitations WHERE email = $1 AND used_at IS NOT NULL',
        [email],
      );
      expect(Number(rows[0]?.n)).toBe(1);
      const loser = tokens[res.findIndex((r) => r.status === 409)] as string;
      expect((await (await anonymous()).get(`/api/invitations/${loser}`)).status).toBe(200);
      const again = await (await anonymous()).post(`/api/invitations/${loser}/accept`, {
        name: 'Noch einmal',
        password: PASSWORD,
      });
      expect(again.status, again.text).toBe(409);
      expect((again.body as { code: string }).code).toBe('email_taken');
    });
  });

  describe('e-mail address changes', () => {
    it('atomic address change: accounts changing to one address at once — one gets it, the others 409 and keep their own address', async () => {
      const target = address('wanted');
      const users: (SignedUp & { email: string })[] = [];
      for (let i = 0; i < 4; i++) users.push(await signUp(`changer-${i}`));
      for (const u of users) await reauth(u);
      const racers = (
        await Promise.all(users.map((u) => onSeparateConnections(u.client, 1, h().portal.tls.ca)))
      ).flat();
      let res: Response[];
      try {
        res = await race(racers, (x) => x.post('/api/me/email', { email: target }));
      } finally {
        await closeAll(racers);
      }
      expect(statuses(res), codes(res).join()).toEqual({ 204: 1, 409: users.length - 1 });
      expect(codes(res).filter((c) => c === 'email_taken')).toHaveLength(users.length - 1);
      expect(await accountsWith(target)).toBe(1);
      for (const [i, u] of users.entries()) {
        const { rows } = await h().portal.db.query('SELECT email FROM portal_users WHERE id = $1', [
          u.userId,
        ]);
        expect(rows[0]?.email).toBe(res[i]?.status === 204 ? target : u.email);
      }
    });

    it('atomic address change: a change and an invitation acceptance for one address at once — one gets it, the other 409, nothing of the loser changed or spent', async () => {
      for (let round = 0; round < 3; round++) {
        const target = address('contested');
        const u = await signUp(`contender-${round}`);
        await reauth(u);
        const token = await h().portal.invite(target, 'customer', TENANT);
        const [changer] = await onSeparateConnections(u.client, 1, h().portal.tls.ca);
        const [invitee] = await onSeparateConnections(await anonymous(), 1, h().portal.tls.ca);
        let res: Response[];
        try {
          res = await race([changer, invitee] as TestClient[], (x, i) =>
            i === 0
              ? x.post('/api/me/email', { email: target })
              : x.post(`/api/invitations/${token}/accept`, { name: 'Erika', password: PASSWORD }),
          );
        } finally {
          await closeAll([changer, invitee] as TestClient[]);
        }
        const [change, accept] = res as [Response, Response];
        expect([change.status, accept.status].sort(), codes(res).join()).toEqual(
          change.status === 204 ? [204, 409] : [200, 409],
        );
        const lost = change.status === 204 ? accept : change;
        expect((lost.body as { code: string }).code).toBe('email_taken');
        expect(await accountsWith(target)).toBe(1);
        const { rows: me } = await h().portal.db.query(
          'SELECT email FROM portal_users WHERE id = $1',
          [u.userId],
        );
        expect(me[0]?.email).toBe(change.status === 204 ? target : u.email);
        const { rows: inv } = await h().portal.db.query(
          'SELECT used_at FROM portal_invitations WHERE email = $1',
          [target],
        );
        expect(inv[0]?.used_at == null).toBe(accept.status !== 200);
      }
    });
  });

  describe('passkey registration', () => {
    /** Registration options for `client` and a software passkey's response to them. */
    async function registration(client: TestClient, credentialId?: Uint8Array) {
      const options = await client.post<{ challenge: string; rp: { id: string } }>(
        '/api/enrol/passkey/options',
      );
      expect(options.status, options.text).toBe(200);
      return softRegistration({
        challenge: options.body.challenge,
        rpId: options.body.rp.id,
        origin: h().portal.url,
        ...(credentialId ? { credentialId } : {}),
      });
    }
    const passkeys = async (credentialId: string) => {
      const { rows } = await h().portal.db.query(
        "SELECT count(*)::int AS n FROM portal_factors WHERE credential_id = $1 AND type = 'passkey'",
        [credentialId],
      );
      return Number(rows[0]?.n);
    };

    it('single use: one passkey registration sent N times at once registers it once; the others get 409, not 500', async () => {
      const who = await invitee('passkey-once');
      const { response, credentialId } = await registration(who.client);
      const res = await fire(
        who.client,
        (x) => x.post('/api/enrol/passkey/verify', { response, label: 'Laptop' }),
        8,
      );
      // The others: the challenge was spent (409), or they arrived after the winner had ended
      // the enrolment session (401) — never a csrf refusal, never a 500.
      const { 200: won, 409: spent = 0, 401: late = 0, ...other } = statuses(res);
      expect({ won, other }, codes(res).join()).toEqual({ won: 1, other: {} });
      expect(spent + late).toBe(7);
      expect(await passkeys(credentialId)).toBe(1);
    });

    it("unique credential: a registration naming another account's passkey credential id is refused with 409, not 500", async () => {
      const first = await invitee('passkey-owner');
      const owned = await registration(first.client);
      const done = await first.client.post('/api/enrol/passkey/verify', {
        response: owned.response,
      });
      expect(done.status, done.text).toBe(200);
      const second = await invitee('passkey-copier');
      const copied = await registration(
        second.client,
        new Uint8Array(Buffer.from(owned.credentialId, 'base64url')),
      );
      const res = await second.client.post('/api/enrol/passkey/verify', {
        response: copied.response,
      });
      expect(res.status, res.text).toBe(409);
      expect((res.body as { code: string }).code).toBe('conflict');
      const { rows } = await h().portal.db.query(
        'SELECT u.email FROM portal_factors f JOIN portal_users u ON u.id = f.user_id WHERE f.credential_id = $1',
        [owned.credentialId],
      );
      expect(rows.map((r) => r.email)).toEqual([first.email]);
    });
  });

  describe('factor removal', () => {
    it('last strong factor: removing two strong factors at once removes one; the account keeps a second factor', async () => {
      const s = await withChannel('email');
      await reauth(s);
      const { rows } = await h().portal.db.query(
        "SELECT id, type FROM portal_factors WHERE user_id = $1 AND confirmed AND type IN ('totp', 'email') ORDER BY type",
        [s.userId],
      );
      expect(rows.map((r) => r.type)).toEqual(['email', 'totp']);
      const res = await fire(
        s.client,
        (x, i) => x.call('DELETE', `/api/me/factors/${rows[i]?.id}`),
        2,
      );
      expect(statuses(res), codes(res).join()).toEqual({ 204: 1, 409: 1 });
      const left = await h().portal.db.query(
        "SELECT count(*)::int AS n FROM portal_factors WHERE user_id = $1 AND confirmed AND type <> 'sms'",
        [s.userId],
      );
      expect(Number(left.rows[0]?.n)).toBe(1);
    });
  });

  describe('first enrolment', () => {
    it('single use: two first factors confirmed at once sign in once and leave exactly one set of recovery codes', async () => {
      const who = await invitee('two-first-factors');
      const totpStart = await who.client.post<{ secret: string }>('/api/enrol/totp/start');
      expect(totpStart.status, totpStart.text).toBe(200);
      clock.advance(31_000);
      expect((await who.client.post('/api/enrol/email/start')).status).toBe(204);
      const mailed = await mailCode(who.email, 1);
      const res = await fire(
        who.client,
        (x, i) =>
          i === 0
            ? x.post<{ recoveryCodes?: string[] }>('/api/enrol/totp/confirm', {
                code: totp(totpStart.body.secret),
              })
            : x.post<{ recoveryCodes?: string[] }>('/api/enrol/email/confirm', { code: mailed }),
        2,
      );
      expect(statuses(res)[200], codes(res).join()).toBe(1);
      const shown = res.find((r) => r.status === 200)?.body.recoveryCodes ?? [];
      expect(shown).toHaveLength(10);
      const { rows } = await h().portal.db.query(
        'SELECT count(*)::int AS n FROM portal_recovery_codes r JOIN portal_users u ON u.id = r.user_id WHERE u.email = $1',
        [who.email],
      );
      // Exactly the codes the user was shown — none from the refused confirmation.
      expect(Number(rows[0]?.n)).toBe(10);
    });

    it('single set-up: TOTP set-up started N times at once leaves one unconfirmed row; the code of its secret confirms, codes of the other secrets are refused', async () => {
      const who = await invitee('totp-start-twice');
      const res = await fire(who.client, (x) =>
        x.post<{ secret: string }>('/api/enrol/totp/start'),
      );
      expect(statuses(res), codes(res).join()).toEqual({ 200: N });
      const secrets = res.map((r) => r.body.secret);
      expect(new Set(secrets).size).toBe(N);
      const { rows } = await h().portal.db.query(
        "SELECT count(*)::int AS n FROM portal_factors f JOIN portal_users u ON u.id = f.user_id WHERE u.email = $1 AND f.type = 'totp' AND NOT f.confirmed",
        [who.email],
      );
      expect(Number(rows[0]?.n)).toBe(1);
      clock.advance(30_000);
      // Every secret's code in turn: before the one kept confirms, the others are wrong codes.
      const outcomes: number[] = [];
      for (const secret of secrets) {
        const confirm = await who.client.post('/api/enrol/totp/confirm', { code: totp(secret) });
        outcomes.push(confirm.status);
        if (confirm.status === 200) break;
        expect(confirm.status, confirm.text).toBe(401);
        expect((confirm.body as { code: string }).code).toBe('invalid_code');
      }
      expect(outcomes.filter((s) => s === 200)).toHaveLength(1);
      const kept = secrets[outcomes.length - 1] as string;
      // The secrets after it are refused too (no set-up is left to confirm).
      for (const secret of secrets.slice(outcomes.length)) {
        const late = await who.client.post('/api/enrol/totp/confirm', { code: totp(secret) });
        expect(late.status, late.text).not.toBe(200);
      }
      // The confirmed factor is the kept secret: its next code signs in.
      const c = await pending(who.email);
      clock.advance(30_000);
      const signIn = await c.post('/api/auth/second-factor', { method: 'totp', code: totp(kept) });
      expect(signIn.status, signIn.text).toBe(200);
    });
  });

  describe('recovery codes', () => {
    /** Whether `code` completes a fresh sign-in of `email` (spending it when it does). */
    async function recoveryWorks(email: string, code: string): Promise<boolean> {
      await h().portal.db.query('DELETE FROM portal_throttle');
      const c = await pending(email);
      const res = await c.post('/api/auth/second-factor', { method: 'recovery', code });
      if (res.status !== 200) expect(res.status, res.text).toBe(401);
      return res.status === 200;
    }

    it('single set: recovery codes regenerated N times at once leave exactly one valid set (the last one shown)', async () => {
      const s = await signUp('recovery-regenerate');
      await reauth(s);
      const res = await fire(s.client, (x) =>
        x.post<{ recoveryCodes: string[] }>('/api/me/recovery-codes'),
      );
      expect(statuses(res), codes(res).join()).toEqual({ 200: N });
      const sets = res.map((r) => r.body.recoveryCodes);
      for (const set of sets) expect(set).toHaveLength(10);
      const me = await s.client.get<{ recoveryCodesLeft: number }>('/api/me');
      expect(me.body.recoveryCodesLeft).toBe(10);
      // The first code of every set shown (and of the sign-up's set): only one set works.
      const working: number[] = [];
      for (const [i, set] of sets.entries())
        if (await recoveryWorks(s.email, set[0] as string)) working.push(i);
      expect(await recoveryWorks(s.email, s.recoveryCodes[0] as string)).toBe(false);
      expect(working, `sets whose codes work: ${working.join()}`).toHaveLength(1);
      // All ten of that set work — and nothing else is left.
      const valid = sets[working[0] as number] as string[];
      for (const code of valid.slice(1)) expect(await recoveryWorks(s.email, code)).toBe(true);
      const end = await s.client.get<{ recoveryCodesLeft: number }>('/api/me');
      expect(end.body.recoveryCodesLeft).toBe(0);
    });
  });
}
