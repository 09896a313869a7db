/**
 * Ports for services that must know theirs before they start (the relay is told the
 * counterpart's URL and the portal's origin before either runs). A port picked here and bound
 * later by the service can be taken in between by another process: the launcher therefore
 * treats a start that fails with `EADDRINUSE` on a picked port as "pick again"
 * (`startSystem`), and picks below the kernel's ephemeral range (32768+ here), where no
 * `listen(0)` of any other test hands the same port out.
 */
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/** Whether something listens on 127.0.0.1:`port`. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(true));
    server.listen(port, '127.0.0.1', () => server.close(() => done(false)));
  });
}

/**
 * A port in 20000–31999 that is free now and not in `taken`; the caller binds it later and must
 * handle `EADDRINUSE` (it may be taken by then).
 */
export async function candidatePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = 20_000 + randomInt(12_000);
    if (!taken.has(port) && !(await portInUse(port))) return port;
  }
}

/** Whether a process's output says it could not bind its port because it was taken. */
export function saysAddressInUse(lines: readonly string[]): boolean {
  return lines.some((line) => line.includes('EADDRINUSE'));
}
