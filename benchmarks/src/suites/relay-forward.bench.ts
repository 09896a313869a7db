/**
 * `@fluxel-example/relay`: forwarding throughput of `send` through the relay (DPoP + access
 * token verification, idempotency record, credential decrypt, upstream call, audit append) against
 * a bare Fastify + undici pass-through proxy to the same counterpart, both over HTTPS with the
 * same certificate. Three processes: the counterpart, the server under test (relay or proxy, one
 * at a time), and this one generating load. Every relay request carries a fresh DPoP proof (its
 * own jti, the body, the access token hash); the proofs are signed here ahead of each phase so the
 * load side's signing does not compete with the relay for the CPU.
 *
 * Figures: peak req/s of each (closed loop, 32 in flight), then p99 latency of each at a fixed
 * open-loop rate of 50 % of the bare proxy's peak (latency counted from each request's scheduled
 * time); `p99AddedMs` is relay p99 minus proxy p99. The relay uses PostgreSQL (DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test, own schema, dropped) when reachable, else
 * PGlite in memory; its audit log is the file store; rate limits on with limits it never reaches.
 * Also CPU time per request of each server process during its peak phase (over IPC) and of the
 * PostgreSQL processes (Linux /proc), which move less than req/s on a shared machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { createCounterpart } from '@fluxel-example/counterpart';
import { counterpartConnector, createRelay, ensureDevTls } from '@fluxel-example/relay';
import Fastify from 'fastify';
import pg from 'pg';
import { Agent, request } from 'undici';
import { emit, percentile, scaled } from '../harness.ts';

const API_KEY = 'cp-bench-key-4b1d9e7c2a';
const ROLE = process.env.FLUXEL_RELAY_BENCH_ROLE;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 32;
const PEAK_MS = scaled(4000, 1500);
const RATE_MS = scaled(4000, 1500);
const WARMUP_MS = scaled(1000, 500);
const DRAIN_MS = 3000;

const announce = (value: unknown) => process.stdout.write(`READY ${JSON.stringify(value)}\n`);
// The load side asks a server for its CPU time over IPC (to report CPU per request, which
// moves far less than req/s on a machine shared with other work).
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
const onStop = (stop: () => Promise<void>) => {
  const handler = () => {
    stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.stdin.on('end', handler);
  process.stdin.resume();
};

async function pgReachable(): Promise<boolean> {
  const probe = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 1500 });
  try {
    await probe.connect();
    return true;
  } catch {
    return false;
  } finally {
    await probe.end().catch(() => {});
  }
}

if (ROLE === 'counterpart') {
  const counterpart = await createCounterpart({ apiKey: API_KEY });
  announce({ url: counterpart.url });
  onStop(() => counterpart.close());
} else if (ROLE === 'relay') {
  const dataDir = process.env.BENCH_DATA_DIR as string;
  const connector = counterpartConnector({ baseUrl: process.env.COUNTERPART_URL as string });
  const usePg = await pgReachable();
  const schema = `relay_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const relay = await createRelay({
    dataDir,
    connector,
    ...(usePg ? { databaseUrl: DATABASE_URL, databaseSchema: schema } : { inMemoryDatabase: true }),
    rateLimit: { perIp: 1e9, perLicense: 1e9 },
  });
  const { key } = await relay.authority.issue({
    tenant: 'bench',
    product: 'wawi-sync',
    entitlements: ['orders'],
  });
  announce({ url: relay.url, ca: relay.tls.ca, licenseKey: key, database: relay.database.kind });
  onStop(async () => {
    await relay.close();
    await connector.close();
    if (usePg) {
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
} else if (ROLE === 'proxy') {
  const tls = ensureDevTls(join(process.env.BENCH_DATA_DIR as string, 'tls'));
  const upstream = new Agent({ keepAliveTimeout: 30_000 });
  const base = process.env.COUNTERPART_URL as string;
  const app = Fastify({ https: { key: tls.key, cert: tls.cert }, logger: false });
  app.post('/v1/connections/:connection/send', async (req, reply) => {
    const { payload } = req.body as { payload: { order: string; status: string } };
    const res = await request(`${base}/orders/${encodeURIComponent(payload.order)}/status`, {
      method: 'POST',
      dispatcher: upstream,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${API_KEY}`,
        'idempotency-key': String(req.headers['idempotency-key']),
      },
      body: JSON.stringify({ status: payload.status }),
    });
    const text = await res.body.text();
    return reply.code(res.statusCode).type('application/json').send(text);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  announce({ url: `https://127.0.0.1:${port}` });
  onStop(async () => {
    await app.close();
    await upstream.close();
  });
} else {
  await main();
}

// --- load side -----------------------------------------------------------------------------

interface Started<T> {
  child: ChildProcess;
  info: T;
}

function start<T>(role: string, env: Record<string, string> = {}): Promise<Started<T>> {
  // FLUXEL_BENCH_CPU_PROF=<dir> writes a CPU profile of the relay process there.
  const prof = process.env.FLUXEL_BENCH_CPU_PROF;
  const flags = prof && role === 'relay' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', import.meta.filename], {
    env: { ...process.env, ...env, FLUXEL_RELAY_BENCH_ROLE: role },
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((done, fail) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) done({ child, info: JSON.parse(line.slice(6)) as T });
      else process.stderr.write(`[${role}] ${line}\n`);
    });
    child.on('exit', (code) => fail(new Error(`${role} exited (${code}) before it was ready`)));
  });
}

/** CPU time (µs, user + system) of a server process so far. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((done) => {
    const onMessage = (message: unknown) => {
      const cpu = (message as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      child.off('message', onMessage);
      done(cpu.user + cpu.system);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

/** CPU time (µs) of every PostgreSQL server process (Linux /proc), or undefined. */
function postgresCpu(): number | undefined {
  try {
    const tick = 1e6 / 100; // USER_HZ is 100 on Linux
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!name.startsWith('postgres')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    }
    return total;
  } catch {
    return undefined;
  }
}

/** Runs `phase` and returns its result with the CPU µs per successful request it cost. */
async function withCpu(
  server: ChildProcess,
  phase: () => Promise<number>,
  seconds: number,
): Promise<{ rate: number; cpuUsPerReq: number; pgCpuUsPerReq: number | undefined }> {
  const cpu0 = await cpuOf(server);
  const pg0 = postgresCpu();
  const rate = await phase();
  const cpu1 = await cpuOf(server);
  const pg1 = postgresCpu();
  const requests = Math.max(1, rate * seconds);
  return {
    rate,
    cpuUsPerReq: Math.round((cpu1 - cpu0) / requests),
    pgCpuUsPerReq:
      pg0 === undefined || pg1 === undefined ? undefined : Math.round((pg1 - pg0) / requests),
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.on('exit', () => done());
    child.stdin?.end();
  });
}

/** One request as the load side sends it. */
type Shot = { body: string; headers: Record<string, string> };

async function main() {
  const began = Date.now();
  const watchdog = setTimeout(() => {
    console.error('relay-forward: over the 58 s budget, aborting');
    process.exit(1);
  }, 58_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-bench-relay-'));
  const counterpart = await start<{ url: string }>('counterpart');
  const env = { COUNTERPART_URL: counterpart.info.url, BENCH_DATA_DIR: dataDir };
  const children: ChildProcess[] = [counterpart.child];
  try {
    // --- the bare proxy -----------------------------------------------------------------------
    const proxy = await start<{ url: string }>('proxy', env);
    children.push(proxy.child);
    const tls = ensureDevTls(join(dataDir, 'tls'));
    let n = 0;
    const bareShot = (): Shot => {
      n++;
      return {
        body: JSON.stringify({
          operation: 'order.status',
          payload: { order: `P-${n}`, status: 'shipped' },
        }),
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      };
    };
    const proxyUrl = `${proxy.info.url}/v1/connections/shop-1/send`;
    const bareAgent = new Agent({ connect: { ca: tls.ca }, connections: CONCURRENCY });
    await closedLoop(bareAgent, proxyUrl, bareShot, WARMUP_MS);
    const bare = await withCpu(
      proxy.child,
      () => closedLoop(bareAgent, proxyUrl, bareShot, PEAK_MS),
      PEAK_MS / 1000,
    );
    const barePeak = bare.rate;
    const rate = Math.max(1, Math.round(barePeak * 0.5));
    const bareLatency = await openLoop(bareAgent, proxyUrl, bareShot, rate, RATE_MS);
    await bareAgent.close();
    await stop(proxy.child);

    // --- the relay ----------------------------------------------------------------------------
    const relay = await start<{ url: string; ca: string; licenseKey: string; database: string }>(
      'relay',
      env,
    );
    children.push(relay.child);
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const client = createRelayClient({
      baseUrl: relay.info.url,
      ca: relay.info.ca,
      pins: [spkiPin(relay.info.ca)],
      proxy: false,
      device,
    });
    await client.activate({ body: { licenseKey: relay.info.licenseKey } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    const accessToken = (await client.tokens())?.accessToken as string;
    const relayUrl = `${relay.info.url}/v1/connections/shop-1/send`;
    const relayAgent = new Agent({ connect: { ca: relay.info.ca }, connections: CONCURRENCY });
    const probe = await request(`${relay.info.url}/v1/status`, { dispatcher: relayAgent });
    await probe.body.dump();
    const nonce = String(probe.headers['dpop-nonce'] ?? '');
    await client.close();

    let m = 0;
    const sign = async (): Promise<Shot> => {
      m++;
      const body = JSON.stringify({
        operation: 'order.status',
        payload: { order: `R-${m}`, status: 'shipped' },
      });
      const proof = await device.proof({
        method: 'POST',
        url: relayUrl,
        accessToken,
        ...(nonce ? { nonce } : {}),
        body,
      });
      return {
        body,
        headers: {
          'content-type': 'application/json',
          authorization: `DPoP ${accessToken}`,
          dpop: proof,
          'idempotency-key': randomUUID(),
        },
      };
    };
    const presign = async (count: number) => {
      const shots: Shot[] = [];
      for (let i = 0; i < count; i++) shots.push(await sign());
      return shots;
    };
    // Pre-signed proofs, used in order; if a phase outruns them, the rest is signed on the fly.
    let pool: Shot[] = [];
    let signedLive = 0;
    const relayShot = (): Shot | Promise<Shot> => {
      const next = pool.pop();
      if (next) return next;
      signedLive++;
      return sign();
    };
    const signStart = performance.now();
    pool = await presign(2000);
    const signPerSecond = 2000 / ((performance.now() - signStart) / 1000);
    await closedLoop(relayAgent, relayUrl, relayShot, WARMUP_MS);
    pool = await presign(Math.ceil(Math.min(barePeak * 1.2, 12_000) * (PEAK_MS / 1000)));
    const relayRun = await withCpu(
      relay.child,
      () => closedLoop(relayAgent, relayUrl, relayShot, PEAK_MS),
      PEAK_MS / 1000,
    );
    const relayPeak = relayRun.rate;
    pool = await presign(Math.ceil(rate * (RATE_MS / 1000)) + CONCURRENCY);
    const relayLatency = await openLoop(relayAgent, relayUrl, relayShot, rate, RATE_MS);
    await relayAgent.destroy();
    // For the record: the relay's own p99 at half of its own peak.
    const ownAgent = new Agent({ connect: { ca: relay.info.ca }, connections: CONCURRENCY });
    const ownRate = Math.max(1, Math.round(relayPeak * 0.5));
    pool = await presign(Math.ceil(ownRate * (RATE_MS / 1000)) + CONCURRENCY);
    const ownLatency = await openLoop(ownAgent, relayUrl, relayShot, ownRate, RATE_MS);
    await ownAgent.destroy();
    await stop(relay.child);

    const p99Bare = percentile(bareLatency.latencies, 99);
    const p99Relay = percentile(relayLatency.latencies, 99);
    const round = (x: number) => Number(x.toFixed(2));
    emit(
      'relay/forward-vs-bare-proxy',
      relayPeak,
      'bare Fastify + undici proxy',
      barePeak,
      'req/s',
      {
        p99AddedMs: round(p99Relay - p99Bare),
        p99RelayMs: round(p99Relay),
        p99BareMs: round(p99Bare),
        atReqPerSec: rate,
        relayErrors: relayLatency.errors,
        relayUnfinished: relayLatency.unfinished,
        p99RelayAtHalfOwnPeakMs: round(percentile(ownLatency.latencies, 99)),
        // CPU per request during the peak phases (moves less than req/s on a shared machine).
        relayCpuUsPerReq: relayRun.cpuUsPerReq,
        bareCpuUsPerReq: bare.cpuUsPerReq,
        ...(relayRun.pgCpuUsPerReq !== undefined
          ? { relayPostgresCpuUsPerReq: relayRun.pgCpuUsPerReq }
          : {}),
        database: relay.info.database,
        proofs: `fresh per request, pre-signed (${Math.round(signPerSecond)}/s); ${signedLive} signed live`,
        seconds: round((Date.now() - began) / 1000),
      },
    );
  } finally {
    clearTimeout(watchdog);
    for (const child of children) await stop(child);
  }
}

async function fire(agent: Agent, url: string, shot: Shot): Promise<boolean> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: shot.headers,
    body: shot.body,
  });
  await res.body.dump();
  return res.statusCode === 200;
}

/** Peak rate: CONCURRENCY requests in flight for `ms`; returns successful req/s. */
async function closedLoop(
  agent: Agent,
  url: string,
  next: () => Shot | Promise<Shot>,
  ms: number,
): Promise<number> {
  const end = performance.now() + ms;
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        if (await fire(agent, url, await next())) ok++;
        else failed++;
      }
    }),
  );
  if (failed > 0) console.error(`${url}: ${failed} requests failed`);
  return ok / ((performance.now() - start) / 1000);
}

/** Fixed open-loop rate for `ms`; latency counted from each request's scheduled start. */
async function openLoop(
  agent: Agent,
  url: string,
  next: () => Shot | Promise<Shot>,
  rate: number,
  ms: number,
): Promise<{ latencies: number[]; errors: number; unfinished: number }> {
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let finished = 0;
  let errors = 0;
  const start = performance.now();
  const total = Math.floor((rate * ms) / 1000);
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + (sent * 1000) / rate;
      inFlight.push(
        Promise.resolve(next())
          .then((shot) => fire(agent, url, shot))
          .then(
            (ok) => {
              if (!ok) errors++;
              latencies.push(performance.now() - scheduled);
            },
            () => {
              errors++;
            },
          )
          .finally(() => {
            finished++;
          }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  // A server that cannot keep up builds a queue; stop waiting DRAIN_MS after the last send and
  // count what is still queued with its latency so far (a lower bound).
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, DRAIN_MS))]);
  const cutoff = performance.now();
  const unfinished = total - finished;
  for (let i = latencies.length + errors; i < total; i++)
    latencies.push(cutoff - (start + (i * 1000) / rate));
  return { latencies, errors, unfinished };
}
