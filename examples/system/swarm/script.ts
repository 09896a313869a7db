/**
 * What the scripts `pnpm test:swarm` runs on the host share (story.ts, portal-signin.ts):
 * required options, and one JSON line as the result — `{ ok: true, …figures }`, or
 * `{ ok: false, error }` with exit code 1 — which run.mjs reads from the last line.
 */

/** The value of a required string option (`--name`), or an error naming it. */
export function required<V extends Record<string, unknown>>(
  values: V,
  name: keyof V & string,
): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required`);
  return value;
}

/** Runs `main` and prints its figures (or its error) as the script's last line. */
export async function printResult(main: () => Promise<Record<string, unknown>>): Promise<void> {
  try {
    console.log(JSON.stringify({ ok: true, ...(await main()) }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: (error as Error).message }));
    process.exitCode = 1;
  }
}
