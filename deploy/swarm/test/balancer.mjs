#!/usr/bin/env node
/**
 * The edge stand-in of `pnpm test:swarm` on a multi-node swarm: a TCP balancer on the host
 * (TLS passes through; the relay's own certificate is what the agent verifies and pins).
 *
 *   node deploy/swarm/test/balancer.mjs '{"127.0.0.1:18443": ["10.215.0.11:18443", …]}'
 *
 * Each listener spreads new connections over its upstreams (round robin; an upstream that
 * refuses or does not answer within 1 s is skipped for the next). Every upstream is probed
 * once a second; after two failed probes it is down: it gets no new connections and its open
 * ones are cut, so a client waiting on a node that is gone sees a reset at once instead of
 * its own timeout (HAProxy's `on-marked-down shutdown-sessions`). Prints `ready` when every
 * listener is up; one line per change of an upstream's state. Stops on SIGTERM/SIGINT.
 */
import { connect, createServer } from 'node:net';

const routes = JSON.parse(process.argv[2] ?? '{}');
const split = (hostPort) => {
  const at = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) };
};

/** One upstream: its address, whether it is up, the failed probes in a row, its sockets. */
const upstreams = new Map();
const upstream = (address) => {
  if (!upstreams.has(address))
    upstreams.set(address, { ...split(address), address, up: true, failed: 0, open: new Set() });
  return upstreams.get(address);
};

function dial(target, ms) {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

const servers = [];
for (const [listen, addresses] of Object.entries(routes)) {
  const targets = addresses.map(upstream);
  let next = 0;
  const server = createServer(async (client) => {
    client.on('error', () => client.destroy());
    client.pause();
    for (let tried = 0; tried < targets.length; tried++) {
      const target = targets[next++ % targets.length];
      if (!target.up) continue;
      const socket = await dial(target, 1000);
      if (!socket) continue;
      if (client.destroyed) return socket.destroy();
      target.open.add(socket);
      const end = () => {
        target.open.delete(socket);
        socket.destroy();
        client.destroy();
      };
      socket.on('error', end).on('close', end);
      client.on('close', end);
      client.pipe(socket).pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  });
  const { host, port } = split(listen);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  servers.push(server);
}

let stopped = false;
async function probe(target) {
  const socket = await dial(target, 1000);
  socket?.destroy();
  if (socket) {
    target.failed = 0;
    if (!target.up) console.log(`up ${target.address}`);
    target.up = true;
  } else if (++target.failed >= 2 && target.up) {
    target.up = false;
    console.log(`down ${target.address} (${target.open.size} connections cut)`);
    for (const s of target.open) s.destroy();
  }
}
(async () => {
  while (!stopped) {
    await Promise.all([...upstreams.values()].map(probe));
    await new Promise((r) => setTimeout(r, 1000));
  }
})();

console.log('ready');
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => {
    stopped = true;
    for (const s of servers) s.close();
    for (const t of upstreams.values()) for (const s of t.open) s.destroy();
    process.exit(0);
  });
