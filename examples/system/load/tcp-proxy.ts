/**
 * The balancer in front of the relays, and `freePort`. (The proxy that cuts or slows a
 * connection is `startTcpProxy` of `@fluxel/internal/tcp-proxy`.)
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Balancer {
  readonly port: number;
  /** New connections per upstream port. */
  readonly connections: Map<number, number>;
  /**
   * Resets every other open connection to `port` (a rebalance after an instance came back:
   * the clients reconnect, round-robin). Returns how many were reset.
   */
  shed(port: number): number;
  close(): Promise<void>;
}

/**
 * A TCP load balancer in front of the relay instances (TLS passes through; every instance
 * has the same certificate and public URL): new connections go round-robin to the upstream
 * ports, and to the next one when an instance refuses. Open connections stay where they are
 * — when an instance dies, its clients see their connections reset.
 */
export async function startBalancer(upstreams: () => readonly number[]): Promise<Balancer> {
  const open = new Set<Socket>();
  const byPort = new Map<Socket, number>();
  const connections = new Map<number, number>();
  let turn = 0;
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const ports = upstreams();
    const start = turn++;
    const tryPort = (i: number) => {
      if (i >= ports.length) {
        client.resetAndDestroy();
        return;
      }
      const port = ports[(start + i) % ports.length] as number;
      const upstream = connect({ host: '127.0.0.1', port });
      let connected = false;
      upstream.on('error', () => {
        upstream.destroy();
        if (!connected) tryPort(i + 1);
        else if (!client.destroyed) client.resetAndDestroy();
      });
      upstream.once('connect', () => {
        connected = true;
        connections.set(port, (connections.get(port) ?? 0) + 1);
        open.add(upstream);
        byPort.set(client, port);
        client.on('close', () => byPort.delete(client));
        upstream.on('close', () => {
          open.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryPort(0);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as { port: number }).port,
    connections,
    shed(port) {
      let n = 0;
      let i = 0;
      for (const [client, p] of byPort)
        if (p === port && i++ % 2 === 0) {
          client.resetAndDestroy();
          n++;
        }
      return n;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

/** A free port from the OS (listen on 0, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
  return port;
}
