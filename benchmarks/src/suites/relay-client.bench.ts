/**
 * `@fluxel/relay-client`: requests per second through the typed client (contract validation
 * both ways, a fresh DPoP proof per request, retries armed) against raw `undici.request` with
 * no signing, against the same local HTTPS server (its own process), 16 requests in flight for
 * both. Reported beside it (`extra`): the floor — raw `undici.request` plus one DPoP proof per
 * request from the same signer, what any DPoP client must do — and the proof's cost alone.
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

const device = createDpopSigner((await generateKeyPair('ES256')).privateJwk);
const accessToken = 'a'.repeat(400);
const client = createRelayClient({
  baseUrl: url,
  ca,
  proxy: false,
  device,
  tokens: {
    load: () => ({
      licenseId: 'lic-1',
      accessToken,
      accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
      licenseToken: 'l',
      licenseTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
    }),
    save: () => undefined,
  },
});
const raw = new Agent({ connect: { ca }, keepAliveTimeout: 30_000 });

// This process's CPU time per request (µs), per variant: steadier than rates on a shared machine.
const cpuPerRequest = new Map<string, number[]>();

async function rate(
  call: () => Promise<unknown>,
  ms: number,
  inFlight = 16,
  label?: string,
): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await call();
        count++;
      }
    }),
  );
  if (label) {
    const cpu = process.cpuUsage(cpuStart);
    const list = cpuPerRequest.get(label) ?? [];
    list.push((cpu.user + cpu.system) / count);
    cpuPerRequest.set(label, list);
  }
  return count / ((performance.now() - start) / 1000);
}
const cpuUs = (label: string) => Math.round(median(cpuPerRequest.get(label) ?? [0]) * 10) / 10;

const ours = () => client.status();
const theirs = async () => {
  const response = await request(`${url}/v1/status`, {
    dispatcher: raw,
    headers: { accept: 'application/json' },
  });
  return response.body.json();
};
const statusUrl = `${url}/v1/status`;
const floor = async () => {
  const dpop = await device.proof({ method: 'GET', url: statusUrl, accessToken });
  const response = await request(statusUrl, {
    dispatcher: raw,
    headers: { accept: 'application/json', authorization: `DPoP ${accessToken}`, dpop },
  });
  return response.body.json();
};
const sign = () => device.proof({ method: 'GET', url: statusUrl, accessToken });
await rate(ours, 500);
await rate(theirs, 500);
await rate(floor, 500);
const oursRates: number[] = [];
const rawRates: number[] = [];
const floorRates: number[] = [];
const signRates: number[] = [];
for (let i = 0; i < scaled(5, 2); i++) {
  oursRates.push(await rate(ours, 600, 16, 'ours'));
  rawRates.push(await rate(theirs, 600, 16, 'raw'));
  floorRates.push(await rate(floor, 600, 16, 'floor'));
  signRates.push(await rate(sign, 200, 1));
}
const floorRate = median(floorRates);
emit(
  'relay-client/request-overhead',
  median(oursRates),
  'raw undici.request, no signing, no validation',
  median(rawRates),
  'req/s',
  {
    floorReqPerS: Math.round(floorRate),
    ratioToFloor: Math.round((median(oursRates) / floorRate) * 1000) / 1000,
    floorToRaw: Math.round((floorRate / median(rawRates)) * 1000) / 1000,
    proofUs: Math.round((1e6 / median(signRates)) * 10) / 10,
    oursCpuUsPerRequest: cpuUs('ours'),
    rawCpuUsPerRequest: cpuUs('raw'),
    floorCpuUsPerRequest: cpuUs('floor'),
  },
);
await client.close();
await raw.close();
child.kill();
