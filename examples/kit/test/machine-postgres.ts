/**
 * The machine's PostgreSQL for the kit's database tests (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test): its URL, the skip reason when it is not there
 * (`missingDependency` fails the run instead when `CI=true`), and a port nothing listens on.
 */
import { createServer } from 'node:net';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import pg from 'pg';

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const probe = new pg.Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: READY_BOUND_MS,
  });
  try {
    await probe.connect();
    return true;
  } catch {
    return false;
  } finally {
    await probe.end().catch(() => {});
  }
}

/** Why the PostgreSQL tests are skipped, or `undefined` when the server answers. */
export const skipWithoutPostgres = (await reachable())
  ? undefined
  : missingDependency(`PostgreSQL at ${POSTGRES_URL}`, 'start PostgreSQL or set DATABASE_URL');

/** A port nothing listens on (taken, then freed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}
