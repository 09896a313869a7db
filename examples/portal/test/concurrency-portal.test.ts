/**
 * The portal's one-time secrets, limits and counters outside sign-in under concurrency, on the
 * embedded PGlite (the cases: `concurrency-portal.cases.ts`; the same on PostgreSQL:
 * `concurrency-portal-postgres.test.ts`).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { CONCURRENCY_OPTIONS, portalConcurrencyCases } from './concurrency-portal.cases.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

let h: PortalHarness;

beforeAll(async () => {
  h = await startPortalHarness(CONCURRENCY_OPTIONS);
});

afterAll(async () => {
  await h?.close();
});

describe('portal concurrency on PGlite', () => {
  portalConcurrencyCases(() => h);
});
