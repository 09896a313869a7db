/**
 * `@fluxel/relay-client`: requests per second through the typed client (contract validation
 * both ways, a fresh DPoP proof per request, retries armed) against raw `undici.request` with
 * no signing, against the same local HTTPS server (its own process), 16 requests in flight for
 * both.
 */
import { spawn } from 'node:child_process';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient } from '@fluxel/relay-client/node';
import { Agent, request } from 'undici';
import { makeTestPki } from '../../../packages/internal/src/pki.ts';
import { emit, median, scaled } from '../harness.ts';

const { dir, caPem: ca } = makeTestPki({ caName: 'bench CA', names: ['127.0.0.1'] });

// The relay stand-in runs in its own process (as a relay would), answering a fixed status.
const serverScript = `
const { createServer } = require('node:https');
const { readFileSync } = require('node:fs');
const body = JSON.stringify({
  license: { id: 'lic-1', status: 'active', product: 'wawi-sync', entitlements: ['orders'], expiresAt: null },
  device: { jkt: 'x' }, mailbox: { pending: 0 }, connections: [],
  relay: { version: 'bench', time: new Date().toISOString() },
});
const server = createServer({ key: readFileSync(process.argv[1] + '/server.key'), cert: readFileSync(process.argv[1] + '/server.pem') }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;
const child = spawn(process.execPath, ['-e', serverScript, dir], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve, reject) => {
  child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});
const url = `https://127.0.0.1:${port}`;

const client = createRelayClient({
  baseUrl: url,
  ca,
  proxy: false,
  device: createDpopSigner((await generateKeyPair('ES256')).privateJwk),
  tokens: {
    load: () => ({
      licenseId: 'lic-1',
      accessToken: 'a'.repeat(400),
      accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
      licenseToken: 'l',
      licenseTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
    }),
    save: () => undefined,
  },
});
const raw = new Agent({ connect: { ca }, keepAliveTimeout: 30_000 });

async function rate(call: () => Promise<unknown>, ms: number, inFlight = 16): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await call();
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

const ours = () => client.status();
const theirs = async () => {
  const response = await request(`${url}/v1/status`, {
    dispatcher: raw,
    headers: { accept: 'application/json' },
  });
  return response.body.json();
};
await rate(ours, 500);
await rate(theirs, 500);
const oursRates: number[] = [];
const rawRates: number[] = [];
for (let i = 0; i < scaled(5, 2); i++) {
  oursRates.push(await rate(ours, 600));
  rawRates.push(await rate(theirs, 600));
}
emit(
  'relay-client/request-overhead',
  median(oursRates),
  'raw undici.request, no signing, no validation',
  median(rawRates),
  'req/s',
);
await client.close();
await raw.close();
child.kill();
