/**
 * The portal's one-time secrets, limits and counters outside sign-in under concurrency, on the
 * machine's PostgreSQL (`DATABASE_URL`, default the local `test` database) in a schema of its
 * own: here the competing requests really run on separate database connections.
 */
import { describe } from 'vitest';
import { CONCURRENCY_OPTIONS, portalConcurrencyCases } from './concurrency-portal.cases.ts';
import { setUpPostgresPortal } from './postgres-schema.ts';

const pg = await setUpPostgresPortal('portal_ccy', CONCURRENCY_OPTIONS);

describe.skipIf(!pg.up)('portal concurrency on PostgreSQL', () => {
  portalConcurrencyCases(pg.h);
});
