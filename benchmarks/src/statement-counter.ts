/**
 * Counts the SQL statements a server sends, on the server's side of its database client: every
 * `query` call is one statement round trip (`pg` sends one statement per call; an explicit
 * BEGIN/COMMIT is a call of its own). Methods that hand a connection to a callback
 * (`exclusive(fn)`, a transaction helper) get that connection counted too. PostgreSQL's own
 * counters do not serve here: `pg_stat_database.xact_commit` counts transactions of every client
 * of the database, and `pg_stat_statements` needs a server restart to load.
 */

/** Anything with a `query` method (`pg.Pool`, the relay's `Database`, PGlite wrappers). */
interface Queryable {
  query(...args: never[]): unknown;
}

function isQueryable(value: unknown): value is Queryable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { query?: unknown }).query === 'function'
  );
}

/** A running count of statements. */
export interface StatementCounter {
  statements: number;
}

/** `client` with every statement it (or a connection it lends out) runs added to `counter`. */
export function countStatements<T extends object>(client: T, counter: StatementCounter): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (prop === 'query')
        return (...args: unknown[]) => {
          counter.statements++;
          return method.apply(target, args);
        };
      return (...args: unknown[]) =>
        method.apply(
          target,
          args.map((arg) =>
            typeof arg === 'function'
              ? (...inner: unknown[]) =>
                  (arg as (...a: unknown[]) => unknown)(
                    ...inner.map((x) => (isQueryable(x) ? countStatements(x, counter) : x)),
                  )
              : arg,
          ),
        );
    },
  });
}
