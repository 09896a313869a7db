/**
 * Competing requests for the concurrency suite: every contender gets its own connection (its
 * own undici `Agent`, one socket), opened and warmed up before the race, so the requests
 * really arrive at the same moment instead of queueing behind each other on one socket.
 */
import { Agent } from 'undici';
import { type Response, TestClient } from './helpers.ts';

/** `n` copies of `client` (same cookies and CSRF token), each on a connection of its own. */
export async function onSeparateConnections(
  client: TestClient,
  n: number,
  ca: string,
): Promise<TestClient[]> {
  const clones = Array.from({ length: n }, () => {
    const clone = new TestClient(client.base, new Agent({ connect: { ca }, connections: 1 }));
    for (const [k, v] of client.cookies) clone.cookies.set(k, v);
    clone.csrf = client.csrf;
    clone.origin = client.origin;
    return clone;
  });
  // Open every socket first (a GET that changes nothing), so the race is not decided by TLS.
  await Promise.all(clones.map((c) => c.call('GET', '/api/session', undefined)));
  for (const clone of clones) clone.csrf = client.csrf;
  return clones;
}

/** Fires `attempt(client, i)` on every client at once and returns the responses in order. */
export async function race<T = Record<string, unknown>>(
  clients: readonly TestClient[],
  attempt: (client: TestClient, i: number) => Promise<Response<T>>,
): Promise<Response<T>[]> {
  return Promise.all(clients.map((c, i) => attempt(c, i)));
}

/** Closes the clones' connections. */
export async function closeAll(clients: readonly TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.dispatcher.close()));
}

/**
 * A `fire(client, attempt, n)` for a suite: fires `attempt` on `n` (default `contenders`) copies
 * of `client` at once, each on a connection of its own opened before and closed after the race,
 * and returns the responses in order. `ca` is read at each race (the portal starts later).
 */
export function firing(ca: () => string, contenders: number) {
  return async function fire<T = Record<string, unknown>>(
    client: TestClient,
    attempt: (c: TestClient, i: number) => Promise<Response<T>>,
    n = contenders,
  ): Promise<Response<T>[]> {
    const clients = await onSeparateConnections(client, n, ca());
    try {
      return await race(clients, attempt);
    } finally {
      await closeAll(clients);
    }
  };
}
