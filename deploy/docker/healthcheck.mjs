/**
 * Container healthcheck: `node healthcheck.mjs <port> <path> [<ca.pem>]`. One HTTPS GET to
 * https://127.0.0.1:<port><path>, the server certificate verified against the internal CA at
 * `<ca.pem>`, default `$RELAY_DATA_DIR/tls/ca.pem` (the relay's; the portal passes the path of
 * its mounted CA). The internal certificate must name IP 127.0.0.1. Healthy when the app answers with any status below 500 within
 * 5 s: the relay's `/v1/status` answers 401 without a device proof, which still proves that
 * TLS, routing and the process are up. Sends no credential, reads no body.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

const [port = '8443', path = '/', caPath] = process.argv.slice(2);
const ca = readFileSync(caPath ?? join(process.env.RELAY_DATA_DIR ?? '/data', 'tls', 'ca.pem'));

const req = request(
  { host: '127.0.0.1', port: Number(port), path, method: 'GET', ca, timeout: 5000 },
  (res) => {
    res.resume();
    process.exit((res.statusCode ?? 599) < 500 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (error) => {
  console.error(`healthcheck: ${error.code ?? error.message}`);
  process.exit(1);
});
req.end();
