/**
 * Sign-in limits and one-time secrets under concurrency on the machine's PostgreSQL
 * (`DATABASE_URL`, default the local `test` database) in a schema of its own: here the
 * competing requests really run on separate database connections (a pool).
 */
import { describe } from 'vitest';
import { authConcurrencyCases, frozenClock } from './concurrency-auth.cases.ts';
import { setUpPostgresPortal } from './postgres-schema.ts';

const clock = frozenClock();
const pg = await setUpPostgresPortal('portal_auth_ccy', { clock: clock.now });

describe.skipIf(!pg.up)('sign-in concurrency on PostgreSQL', () => {
  authConcurrencyCases(pg.h, clock);
});
