/**
 * Portal benchmark: a complete sign-in (password + TOTP) end to end over HTTPS on loopback —
 * `GET /api/session`, `POST /api/auth/login` (argon2id verify, throttling, audit append),
 * `POST /api/auth/second-factor` (TOTP check with replay guard, new session, audit append) —
 * p50/p99 latency, against the floor: one argon2id verify with the same parameters, which the
 * sign-in cannot be faster than. One JSON line per result (benchmarks/ format).
 */
import { verify } from '@node-rs/argon2';
import { emit, percentile } from '../../../benchmarks/src/harness.ts';
import { hashPassword, PASSWORD_PARAMS } from '../src/features/auth/password.ts';
import { code, PASSWORD, startPortalHarness } from '../test/helpers.ts';

const ROUNDS = Number(process.env.PORTAL_BENCH_ROUNDS ?? 60);

const h = await startPortalHarness();
try {
  await h.portal.createTenant('bench', 'Bench GmbH', 'customer');
  const user = await h.signUp('bench@bench.test', 'customer', 'bench', 'Bench User');
  const signIn: number[] = [];
  for (let i = 0; i < ROUNDS + 5; i++) {
    h.clock.offsetMs += 30_000; // each TOTP step works once
    const c = h.client();
    const t0 = performance.now();
    await c.session();
    const login = await c.post('/api/auth/login', {
      email: 'bench@bench.test',
      password: PASSWORD,
    });
    const done = await c.post('/api/auth/second-factor', {
      method: 'totp',
      code: code(h, user.secret),
    });
    const ms = performance.now() - t0;
    if (login.status !== 200 || done.status !== 200)
      throw new Error(`sign-in failed: ${done.text}`);
    if (i >= 5) signIn.push(ms);
  }
  const hash = await hashPassword(PASSWORD);
  const argon: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await verify(hash, PASSWORD.normalize('NFKC'));
    argon.push(performance.now() - t0);
  }
  signIn.sort((a, b) => a - b);
  argon.sort((a, b) => a - b);
  const p50 = percentile(signIn, 50);
  const p99 = percentile(signIn, 99);
  const argonP50 = percentile(argon, 50);
  const params = `m=${PASSWORD_PARAMS.memoryCost},t=${PASSWORD_PARAMS.timeCost},p=${PASSWORD_PARAMS.parallelism}`;
  emit('portal/signin-p50', p50, `argon2id verify (${params})`, argonP50, 'ms', {
    p99Ms: Math.round(p99 * 10) / 10,
    argon2idP99Ms: Math.round(percentile(argon, 99) * 10) / 10,
    rounds: ROUNDS,
  });
} finally {
  await h.close();
}
