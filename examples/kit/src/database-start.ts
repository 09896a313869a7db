/**
 * Waiting for the database at start. A service started next to PostgreSQL (a Swarm stack, a
 * restart while the network blips, a standby not yet promoted) often finds it unreachable for
 * a while; exiting then only makes the orchestrator restart it in a loop. `untilDatabaseReady`
 * runs the start's database step (open, migrate) again while the database is unreachable or
 * read-only, says why it waits, and gives up after a bound with an error that says what to
 * check. Any other failure (wrong password, a broken migration) fails at once.
 */

/** Why a start waits: the database could not be reached, or it cannot be written yet. */
export type DatabaseWaitReason = 'unreachable' | 'read-only';

export interface DatabaseWait {
  readonly reason: DatabaseWaitReason;
  /** The failure's code (`ECONNREFUSED`, `57P03`, …), `'terminated'` or `'timeout'`. */
  readonly code: string;
  /** 1 for the first failed attempt. */
  readonly attempt: number;
  readonly retryInMs: number;
}

export interface UntilDatabaseReadyOptions {
  /** How long to keep trying; default 5 minutes. */
  readonly boundMs?: number;
  /** Called before each wait. */
  readonly onWait?: (wait: DatabaseWait) => void;
  /** First pause; doubles up to 5 s. Default 250 ms. */
  readonly firstDelayMs?: number;
}

/** The start gave up waiting for the database. */
export class DatabaseNotReadyError extends Error {
  readonly reason: DatabaseWaitReason;
  readonly code: string;
  constructor(wait: { reason: DatabaseWaitReason; code: string }, boundMs: number, cause: unknown) {
    const waited =
      boundMs < 60_000
        ? `${Math.round(boundMs / 100) / 10} s`
        : `${Math.round(boundMs / 6000) / 10} min`;
    super(
      wait.reason === 'read-only'
        ? `the database is read-only (${wait.code}) after ${waited} of waiting: it is a standby or in read-only mode; point DATABASE_URL at the primary or promote the standby`
        : `the database was not reachable (${wait.code}) for ${waited}: check DATABASE_URL and that PostgreSQL runs and accepts connections`,
      { cause },
    );
    this.name = 'DatabaseNotReadyError';
    this.reason = wait.reason;
    this.code = wait.code;
  }
}

/** Socket-level failures: the server is not there (yet), or the connection died. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: shutting down, crashed, starting up; connection exceptions; too many clients.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);

/**
 * Whether `error` means "wait and try again" at start, and why; `undefined` for a failure
 * waiting cannot mend.
 */
export function databaseWaitReason(
  error: unknown,
): { reason: DatabaseWaitReason; code: string } | undefined {
  // Stores wrap the driver's error (`ERR_LICENSE_STORAGE`, "the license database failed"):
  // the reason is the first one found along the causes.
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const found = ownWaitReason(e);
    if (found) return found;
  }
  return undefined;
}

function ownWaitReason(error: unknown): { reason: DatabaseWaitReason; code: string } | undefined {
  if (error instanceof DatabaseReadOnly) return { reason: 'read-only', code: error.code };
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '25006') return { reason: 'read-only', code };
  if (typeof code === 'string' && UNREACHABLE.has(code)) return { reason: 'unreachable', code };
  // node-postgres reports a connection the server closed, and a query on a client whose
  // connection died, with these messages and no code; a server that stopped answering (its
  // node lost) by a query or a pool connection that timed out.
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  if (
    message.startsWith('Connection terminated') ||
    message.startsWith('Client has encountered a connection error')
  )
    return { reason: 'unreachable', code: 'terminated' };
  if (
    message === 'Query read timeout' ||
    message.startsWith('timeout exceeded when trying to connect')
  )
    return { reason: 'unreachable', code: 'timeout' };
  return undefined;
}

/** Thrown by {@link refuseStandby} when the server is in recovery (a hot standby). */
export class DatabaseReadOnly extends Error {
  readonly code = 'in-recovery';
  constructor() {
    super('the database is a standby in recovery (pg_is_in_recovery)');
    this.name = 'DatabaseReadOnly';
  }
}

/**
 * Throws {@link DatabaseReadOnly} when `query` talks to a PostgreSQL standby, before a
 * migration would fail on it with a less telling error.
 */
export async function refuseStandby(
  query: (text: string) => Promise<{ rows: Record<string, unknown>[] }>,
): Promise<void> {
  const { rows } = await query('SELECT pg_is_in_recovery() AS standby');
  if (rows[0]?.standby === true) throw new DatabaseReadOnly();
}

/**
 * Runs `attempt` until it succeeds, waiting between attempts while it fails because the
 * database is unreachable or read-only. `attempt` must release what it opened before it throws.
 */
export async function untilDatabaseReady<T>(
  attempt: () => Promise<T>,
  options: UntilDatabaseReadyOptions = {},
): Promise<T> {
  const boundMs = options.boundMs ?? 300_000;
  if (!Number.isFinite(boundMs) || boundMs < 0)
    throw new RangeError(`boundMs must be a number of milliseconds ≥ 0, got ${boundMs}`);
  const deadline = Date.now() + boundMs;
  let delay = options.firstDelayMs ?? 250;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const wait = databaseWaitReason(error);
      if (!wait) throw error;
      const left = deadline - Date.now();
      if (left <= 0) throw new DatabaseNotReadyError(wait, boundMs, error);
      const retryInMs = Math.min(delay, left);
      options.onWait?.({ ...wait, attempt: n, retryInMs });
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** A one-line description of a wait, for a service's log. */
export function describeDatabaseWait(wait: DatabaseWait): string {
  const seconds = (wait.retryInMs / 1000).toFixed(wait.retryInMs < 1000 ? 2 : 0);
  return wait.reason === 'read-only'
    ? `database is read-only (${wait.code}), a standby not yet promoted? retrying in ${seconds} s`
    : `database not reachable (${wait.code}), retrying in ${seconds} s`;
}

/**
 * `DATABASE_WAIT_MS` of a service's environment: how long its start waits for the database
 * (milliseconds, a whole number ≥ 0); `undefined` when unset (the 5-minute default).
 */
export function databaseWaitFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0)
    throw new RangeError(
      `DATABASE_WAIT_MS must be a whole number of milliseconds ≥ 0 (e.g. 300000 for 5 min), got ${JSON.stringify(value)}`,
    );
  return ms;
}
