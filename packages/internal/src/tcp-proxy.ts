/**
 * A TCP proxy for tests that make a network misbehave between a service and what it talks to
 * (PostgreSQL, a counterpart). Never bundled into a package.
 *  - `cut()` resets every open connection (both sides) and, until `restore()`, resets every
 *    new one at once: the connections die and new ones fail, as on a network partition. The
 *    listening port stays the proxy's throughout (no other process can take it meanwhile).
 *  - `resetAtChunk(n)` resets every open connection once, when the n-th chunk from the clients
 *    (counted across connections from that call) arrives, before it is passed on; new
 *    connections are accepted again at once. A reset at a chosen step of a conversation.
 *  - `delay(ms)` holds every chunk of the upstream's answers that long, in order (a slow peer:
 *    the request arrives and takes effect, the answer comes seconds later, or after the
 *    caller's timeout); `delay(0)` ends it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted and refused, connections reset, chunks from the clients. */
  readonly stats: { accepted: number; refused: number; cut: number; chunks: number };
  /** Resets every open connection and refuses new ones until `restore()`; returns how many. */
  cut(): number;
  restore(): void;
  /** Resets every open connection once, when the `n`-th client chunk from now arrives. */
  resetAtChunk(n: number): void;
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(upstream: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let down = false;
  let delayMs = 0;
  /** Client chunks left until the armed reset; 0: none armed. */
  let resetIn = 0;
  const resetOpen = () => {
    let n = 0;
    for (const [client, upstreamSocket] of pairs) {
      n++;
      client.resetAndDestroy();
      upstreamSocket.resetAndDestroy();
    }
    pairs.clear();
    stats.cut += n;
    return n;
  };
  /** Forwards the upstream's answers, each chunk held `delayMs` (in order) while a delay is on. */
  const forward = (from: Socket, to: Socket) => {
    let last = 0;
    from.on('data', (chunk: Buffer) => {
      if (delayMs === 0 && last <= Date.now()) {
        to.write(chunk);
        return;
      }
      last = Math.max(Date.now() + delayMs, last);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, last - Date.now());
    });
  };
  const stats = { accepted: 0, refused: 0, cut: 0, chunks: 0 };
  const server: Server = createServer((client) => {
    if (down) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.accepted++;
    const server = connect(upstream);
    const pair: [Socket, Socket] = [client, server];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      stats.chunks++;
      if (resetIn > 0 && --resetIn === 0) {
        resetOpen();
        return;
      }
      if (!server.write(chunk)) {
        client.pause();
        server.once('drain', () => client.resume());
      }
    });
    forward(server, client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stats,
    cut() {
      down = true;
      return resetOpen();
    },
    resetAtChunk(n) {
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`n must be a whole number ≥ 1, got ${n}`);
      resetIn = n;
    },
    restore() {
      down = false;
    },
    delay(ms) {
      delayMs = ms;
    },
    close() {
      for (const [client, upstreamSocket] of pairs) {
        client.destroy();
        upstreamSocket.destroy();
      }
      return new Promise((done) => server.close(() => done()));
    },
  };
}

/**
 * A proxy in front of the server a connection URL names (`postgres://…`; `defaultPort` when the
 * URL has none), and the same URL pointing through it.
 */
export async function proxyInFrontOf(
  url: string,
  defaultPort: number,
): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const proxy = await startTcpProxy({
    host: target.hostname || '127.0.0.1',
    port: Number(target.port || defaultPort),
  });
  const through = new URL(url);
  through.hostname = '127.0.0.1';
  through.port = String(proxy.port);
  return { proxy, url: through.toString() };
}
