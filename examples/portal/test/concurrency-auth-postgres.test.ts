/**
 * Sign-in limits and one-time secrets under concurrency on the machine's PostgreSQL
 * (`DATABASE_URL`, default the local `test` database) in a schema of its own: here the
 * competing requests really run on separate database connections (a pool).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { authConcurrencyCases, frozenClock } from './concurrency-auth.cases.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';
import { dropSchema, POSTGRES_URL, postgresUp, uniqueSchema } from './postgres-schema.ts';

const URL = POSTGRES_URL;
const SCHEMA = uniqueSchema('portal_auth_ccy');
const up = await postgresUp();

const clock = frozenClock();
let h: PortalHarness;

beforeAll(async () => {
  if (!up) return;
  h = await startPortalHarness({
    clock: clock.now,
    databaseUrl: URL,
    databaseSchema: SCHEMA,
    inMemoryDatabase: false,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (up) await dropSchema(SCHEMA);
});

describe.skipIf(!up)('sign-in concurrency on PostgreSQL', () => {
  authConcurrencyCases(() => h, clock);
});
