/**
 * Sign-in limits and one-time secrets under concurrency, on the embedded PGlite (the cases:
 * `concurrency-auth.cases.ts`; the same on PostgreSQL: `concurrency-auth-postgres.test.ts`).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { authConcurrencyCases, frozenClock } from './concurrency-auth.cases.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

const clock = frozenClock();
let h: PortalHarness;

beforeAll(async () => {
  h = await startPortalHarness({ clock: clock.now });
});

afterAll(async () => {
  await h?.close();
});

describe('sign-in concurrency on PGlite', () => {
  authConcurrencyCases(() => h, clock);
});
