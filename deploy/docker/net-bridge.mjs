/**
 * Stop-gap for containers, preloaded with `node --import ./net-bridge.mjs`. The relay and the
 * portal examples bind every listener to 127.0.0.1 (hard-coded in `createRelay`,
 * `startAdminServer`, `createPortal`), which no other container can reach. Until they take a
 * host option, this module:
 *
 * - `FLUXEL_LISTEN_HOST=0.0.0.0`: rewrites `listen()` calls that ask for a loopback address to
 *   that address instead (every net/http/https/http2 server, so Fastify and grpc-js too);
 * - `FLUXEL_FORWARD=8443=relay-x:8443,8444=relay-x:8444`: opens plain TCP forwarders on
 *   127.0.0.1:<port> to <host>:<port>. The portal's dev entry dials the relay's admin API at
 *   `localhost:<RELAY_ADMIN_PORT>`; the forwarder carries that (TLS end to end: the bytes are
 *   relayed, not decrypted, so the portal still verifies the relay's certificate).
 *
 * Both are off when their variable is unset. Nothing else is changed.
 */
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const originalListen = net.Server.prototype.listen;
const listenHost = process.env.FLUXEL_LISTEN_HOST;

if (listenHost) {
  net.Server.prototype.listen = function listen(...args) {
    const [first, second] = args;
    if (first && typeof first === 'object' && LOOPBACK.has(first.host)) {
      args[0] = { ...first, host: listenHost };
    } else if (
      (typeof first === 'number' || typeof first === 'string') &&
      typeof second === 'string' &&
      LOOPBACK.has(second)
    ) {
      args[1] = listenHost;
    }
    return originalListen.apply(this, args);
  };
}

/** Parses `local=host:port,…`; throws on anything else, so a typo stops the container. */
export function parseForwards(spec) {
  if (!spec) return [];
  return spec.split(',').map((entry) => {
    const match = /^(\d{1,5})=([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(entry.trim());
    if (!match) throw new Error(`FLUXEL_FORWARD: cannot read "${entry}" (want 8444=host:8444)`);
    return { local: Number(match[1]), host: match[2], port: Number(match[3]) };
  });
}

for (const { local, host, port } of parseForwards(process.env.FLUXEL_FORWARD)) {
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host, port });
    inbound.pipe(outbound).pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end);
    outbound.on('error', end);
  });
  server.unref();
  // The original listen: forwarders stay on loopback whatever FLUXEL_LISTEN_HOST says.
  originalListen.call(server, local, '127.0.0.1');
}
