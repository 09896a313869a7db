/**
 * The portal's one-time secrets, limits and counters outside sign-in under concurrency, on the
 * machine's PostgreSQL (`DATABASE_URL`, default the local `test` database) in a schema of its
 * own: here the competing requests really run on separate database connections.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { CONCURRENCY_OPTIONS, portalConcurrencyCases } from './concurrency-portal.cases.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';
import { dropSchema, POSTGRES_URL, postgresUp, uniqueSchema } from './postgres-schema.ts';

const URL = POSTGRES_URL;
const SCHEMA = uniqueSchema('portal_ccy');
const up = await postgresUp();

let h: PortalHarness;

beforeAll(async () => {
  if (!up) return;
  h = await startPortalHarness({
    ...CONCURRENCY_OPTIONS,
    databaseUrl: URL,
    databaseSchema: SCHEMA,
    inMemoryDatabase: false,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (up) await dropSchema(SCHEMA);
});

describe.skipIf(!up)('portal concurrency on PostgreSQL', () => {
  portalConcurrencyCases(() => h);
});
