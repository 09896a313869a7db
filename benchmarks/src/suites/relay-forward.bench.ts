/**
 * `@fluxel-example/relay`: the cost of `send` through the relay (DPoP + access token
 * verification, idempotency record, credential decrypt, upstream call, audit append) against a
 * bare Fastify + undici pass-through proxy to the same counterpart, both over HTTPS with the same
 * certificate. Processes: the counterpart, the bare proxy, the relay (a second relay instance for
 * the last phase), and this one generating load. Every relay request carries a fresh DPoP proof
 * (its own jti, the body, the access token hash), signed here ahead of each phase so the load
 * side's signing does not compete with the servers for the CPU.
 *
 * What is measured (issue 18), in this order:
 * 1. The bare proxy: warm-up, then its peak (closed loop, 32 in flight) with its CPU per send.
 * 2. The relay on a fresh schema whose `relay_idempotency` is never analyzed (autovacuum off for
 *    that table while it is fresh, so the plan PostgreSQL picks for a table without statistics
 *    is the one measured): warm-up, then its peak at 32 in flight with the relay's CPU, its
 *    PostgreSQL backends' CPU and its statements per send.
 * 3. `ANALYZE relay_idempotency` after that load (autovacuum back on), a short warm-up for the
 *    plans to be rebuilt, then the same figures again: these are the headline figures (a
 *    relay in service has statistics); the fresh ones are printed beside them in `extra`.
 *    Then further rounds of the proxy's peak and of this one, alternated; the headline figures
 *    are each server's median round by req/s, so a neighbour's load on a shared machine moving
 *    between the proxy's phase and the relay's does not decide the ratio alone (every round in
 *    `extra`).
 * 4. Statements per send at 8 and at 1 in flight (closed loop); and per item of a send-batch of
 *    10 items at 1 request in flight (the agent's path for a folder of several records).
 * 5. Added p99: each of proxy and relay at a fixed open-loop rate of 50 % and of 70 % of the
 *    relay's own peak (latency counted from each request's scheduled time), alternated in
 *    rounds; added = relay p99 minus proxy p99 at the same rate, each server's median round.
 * 6. Issue 8's figure, kept: both at 50 % of the *proxy's* peak (beyond the relay's own peak, so
 *    its p99 there is a queue, not the relay's latency).
 * 3b. The measured floor (`relay-floor.ts`): the proxy plus one ES256 proof check, one AES-GCM
 *    open and one group-committed INSERT — its peak rounds right after the relay's; the relay's
 *    CPU per send against it (`relay/cpu-per-send-vs-floor`). Needs PostgreSQL.
 * 7. Two relay instances over the same PostgreSQL schema (shared secrets, KEK and public URL),
 *    16 in flight each: statements per send against one instance at 32 in flight.
 *
 * How: CPU of a server process over IPC (`process.cpuUsage`). PostgreSQL CPU is only the
 * backends serving the relay's connections — the relay connects with a unique
 * `application_name`; its backends are `pg_stat_activity` rows with that name, and their
 * user + system time is read from `/proc/<pid>/stat` before and after a phase (a backend that
 * appears in between counts in full; one that vanishes is reported as `lostBackends`).
 * Statements are counted on the relay's side: the bench opens the relay's database itself and
 * hands it to `createRelay` wrapped so that every `query` (and every query on a connection it
 * lends out) counts — `pg_stat_database.xact_commit` would count every client of the database
 * and a transaction of several statements as one, and `pg_stat_statements` is not loaded on
 * a stock server. Sampling starts only after a warm-up of each server.
 *
 * PostgreSQL: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), own schema,
 * dropped at the end; PGlite in memory when unreachable (then PostgreSQL's CPU is inside the
 * relay's own, no PostgreSQL CPU line, no two-instance phase). Audit log: the file store; rate
 * limits on with limits never reached.
 *
 * Settings from the environment (ms unless said; quick-run defaults in brackets):
 * FLUXEL_RELAY_BENCH_PHASE_MS each peak phase, 4000 [1500]; FLUXEL_RELAY_BENCH_LATENCY_MS each
 * open-loop phase, 3000 [1200]; FLUXEL_RELAY_BENCH_WARMUP_MS and FLUXEL_RELAY_BENCH_WARMUP_SENDS
 * a server's first warm-up, at least this long and this many sends (at most 6 × the time),
 * 2000 and 2000 [800 and 400]; FLUXEL_RELAY_BENCH_SHORT_MS the 8- and 1-in-flight phases and
 * the short warm-ups, 2000 [800]; FLUXEL_RELAY_BENCH_ROUNDS alternated rounds of the peak and
 * latency phases, 3 [2]; FLUXEL_RELAY_BENCH_BUDGET_MS aborts the suite past it, 180000.
 * About 2 minutes in all on a busy 2-core machine (quick: under 1 minute).
 * FLUXEL_BENCH_CPU_PROF=<dir> writes a CPU profile of the relay process there.
 * FLUXEL_RELAY_BENCH_VERIFY_THREADS sets the relay's `verifyThreads` (default: the relay's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { createCounterpart } from '@fluxel-example/counterpart';
import {
  counterpartConnector,
  createRelay,
  ensureDevTls,
  openDatabase,
} from '@fluxel-example/relay';
import Fastify from 'fastify';
import pg from 'pg';
import { Agent, request } from 'undici';
import { emit, percentile, scaled } from '../harness.ts';
import { type CpuSnapshot, cpuBetween, snapshot } from '../proc-cpu.ts';
import { startFloor } from '../relay-floor.ts';
import { countStatements } from '../statement-counter.ts';

const API_KEY = 'cp-bench-key-4b1d9e7c2a';
const ROLE = process.env.FLUXEL_RELAY_BENCH_ROLE;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PEAK_CONCURRENCY = 32;
const PHASE_MS = envMs('FLUXEL_RELAY_BENCH_PHASE_MS', scaled(4000, 1500));
const LATENCY_MS = envMs('FLUXEL_RELAY_BENCH_LATENCY_MS', scaled(3000, 1200));
const WARMUP_MS = envMs('FLUXEL_RELAY_BENCH_WARMUP_MS', scaled(2000, 800));
/** The first warm-up of a server lasts WARMUP_MS and at least this many sends (capped at 6×). */
const WARMUP_SENDS = envMs('FLUXEL_RELAY_BENCH_WARMUP_SENDS', scaled(2000, 400));
const SHORT_MS = envMs('FLUXEL_RELAY_BENCH_SHORT_MS', scaled(2000, 800));
const BUDGET_MS = envMs('FLUXEL_RELAY_BENCH_BUDGET_MS', 180_000);
/** Alternated peak rounds of proxy and relay (the median round counts). */
const ROUNDS = envMs('FLUXEL_RELAY_BENCH_ROUNDS', scaled(3, 2));
/** How long an open-loop phase waits for a queue to drain after its last send. */
const DRAIN_MS = 3000;
/** How long it then waits for the rest of the queue before the next phase starts. */
const QUEUE_WAIT_MS = 20_000;
/** Issue 18's budgets for the statements per send. */
const STATEMENTS_BUDGET_32 = 0.1;
const STATEMENTS_BUDGET_1 = 1;

/** A positive number from the environment (milliseconds, or a count for the rounds). */
function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(Number.isFinite(value) && value > 0))
    throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

const announce = (value: unknown) => process.stdout.write(`READY ${JSON.stringify(value)}\n`);

// The load side asks a server process for figures (CPU, statements) and actions over IPC:
// { id, cmd } → { id, result } or { id, error }.
const commands: Record<string, () => unknown> = { cpu: () => process.cpuUsage() };
process.on('message', (message) => {
  const { id, cmd } = message as { id: number; cmd: string };
  const command = commands[cmd];
  Promise.resolve()
    .then(() => {
      if (!command) throw new Error(`unknown command ${cmd}`);
      return command();
    })
    .then(
      (result) => process.send?.({ id, result }),
      (error: unknown) => process.send?.({ id, error: String(error) }),
    );
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

/** DATABASE_URL with `application_name` set, so the relay's backends can be told apart. */
function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/**
 * A relay instance. BENCH_SCHEMA absent: the first instance — it makes the schema, issues the
 * license and drops the schema when it stops. Present: a further instance on that schema.
 */
async function relayRole() {
  const dataDir = process.env.BENCH_DATA_DIR as string;
  const appName = process.env.BENCH_APP_NAME as string;
  const first = !process.env.BENCH_SCHEMA;
  const connector = counterpartConnector({ baseUrl: process.env.COUNTERPART_URL as string });
  const usePg = await pgReachable();
  const schema =
    process.env.BENCH_SCHEMA ?? `relay_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const url = withApplicationName(DATABASE_URL, appName);
  const raw = usePg ? await openDatabase({ url, schema }) : await openDatabase({});
  const counter = { statements: 0 };
  const relay = await createRelay({
    dataDir,
    connector,
    database: countStatements(raw, counter),
    ...(usePg ? { databaseUrl: url, databaseSchema: schema } : {}),
    ...(process.env.BENCH_PORT ? { port: Number(process.env.BENCH_PORT) } : {}),
    ...(process.env.BENCH_PUBLIC_URL ? { publicUrl: process.env.BENCH_PUBLIC_URL } : {}),
    rateLimit: { perIp: 1e9, perLicense: 1e9 },
    ...(process.env.FLUXEL_RELAY_BENCH_VERIFY_THREADS
      ? { verifyThreads: Number(process.env.FLUXEL_RELAY_BENCH_VERIFY_THREADS) }
      : {}),
  });
  commands.statements = () => counter.statements;
  // Keeps the fresh table without statistics (autovacuum would analyze it within a minute).
  commands.freeze = async () => {
    if (usePg)
      await raw.query('ALTER TABLE relay_idempotency SET (autovacuum_enabled = false)', []);
  };
  commands.analyze = async () => {
    await raw.query('ANALYZE relay_idempotency', []);
    if (usePg) await raw.query('ALTER TABLE relay_idempotency RESET (autovacuum_enabled)', []);
  };
  const licenseKey = first
    ? (
        await relay.authority.issue({
          tenant: 'bench',
          product: 'wawi-sync',
          entitlements: ['orders'],
        })
      ).key
    : undefined;
  announce({ url: relay.url, ca: relay.tls.ca, licenseKey, database: raw.kind, schema });
  onStop(async () => {
    await relay.close();
    await raw.close();
    await connector.close();
    if (usePg && first) {
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
}

// --- load side -----------------------------------------------------------------------------

interface Started<T> {
  child: ChildProcess;
  info: T;
}

interface RelayInfo {
  url: string;
  ca: string;
  licenseKey?: string;
  database: string;
  schema: string;
}

function start<T>(role: string, env: Record<string, string> = {}): Promise<Started<T>> {
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

let asked = 0;
/** Sends a command to a server process and waits for its answer. */
function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  const id = ++asked;
  return new Promise((done, fail) => {
    const onMessage = (message: unknown) => {
      const m = message as { id?: number; result?: T; error?: string };
      if (m.id !== id) return;
      child.off('message', onMessage);
      if (m.error) fail(new Error(`${cmd}: ${m.error}`));
      else done(m.result as T);
    };
    child.on('message', onMessage);
    child.send({ id, cmd });
  });
}

const cpuOf = async (child: ChildProcess) => {
  const cpu = await ask<NodeJS.CpuUsage>(child, 'cpu');
  return cpu.user + cpu.system;
};

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.on('exit', () => done());
    child.stdin?.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** The relay's PostgreSQL backends (by application_name), or undefined on PGlite. */
interface Backends {
  read(): Promise<CpuSnapshot>;
}

function backendsOf(admin: pg.Client, appName: string): Backends {
  return {
    async read() {
      const { rows } = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      return snapshot(rows.map((r) => r.pid));
    },
  };
}

/** One request as the load side sends it. */
type Shot = { body: string; headers: Record<string, string> };
/** Where a worker sends. */
type Target = { agent: Agent; url: string };
type Load = { ok: number; failed: number; seconds: number; rate: number };

/** The figures of one sampled phase. */
interface Sampled extends Load {
  /** Server process CPU µs per successful send (sum over the servers). */
  cpuUsPerSend: number;
  /** Statements per successful send (relay only). */
  statementsPerSend?: number;
  /** The relay's PostgreSQL backends' CPU µs per successful send. */
  pgCpuUsPerSend?: number;
  backends?: number;
  lostBackends?: number;
}

/** Runs `phase` and returns its figures with what it cost the servers and PostgreSQL. */
async function sampled(
  servers: readonly ChildProcess[],
  options: { statements: boolean; backends?: Backends | undefined },
  phase: () => Promise<Load>,
): Promise<Sampled> {
  const total = async (cmd: 'statements' | 'cpu') => {
    let sum = 0;
    for (const server of servers)
      sum += cmd === 'cpu' ? await cpuOf(server) : await ask<number>(server, cmd);
    return sum;
  };
  const statements0 = options.statements ? await total('statements') : 0;
  const pg0 = await options.backends?.read();
  const cpu0 = await total('cpu');
  const load = await phase();
  const cpu1 = await total('cpu');
  const pg1 = await options.backends?.read();
  const statements1 = options.statements ? await total('statements') : 0;
  const sends = Math.max(1, load.ok);
  // pg1 was read for the pids now serving; the ones of pg0 that left are read again so a
  // backend still alive but renamed or idle-closed is not mistaken for a new one.
  const pg = pg0 && pg1 ? cpuBetween(pg0, new Map([...snapshot(pg0.keys()), ...pg1])) : undefined;
  return {
    ...load,
    cpuUsPerSend: (cpu1 - cpu0) / sends,
    ...(options.statements ? { statementsPerSend: (statements1 - statements0) / sends } : {}),
    ...(pg ? { pgCpuUsPerSend: pg.us / sends, backends: pg.processes, lostBackends: pg.lost } : {}),
  };
}

async function main() {
  const began = Date.now();
  const watchdog = setTimeout(() => {
    console.error(`relay-forward: over the ${BUDGET_MS / 1000} s budget, aborting`);
    process.exit(1);
  }, BUDGET_MS);
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-bench-relay-'));
  const counterpart = await start<{ url: string }>('counterpart');
  const env = { COUNTERPART_URL: counterpart.info.url, BENCH_DATA_DIR: dataDir };
  const children: ChildProcess[] = [counterpart.child];
  let admin: pg.Client | undefined;
  try {
    // --- 1. the bare proxy ----------------------------------------------------------------------
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
    const bare: Target = {
      agent: new Agent({ connect: { ca: tls.ca }, connections: PEAK_CONCURRENCY }),
      url: `${proxy.info.url}/v1/connections/shop-1/send`,
    };
    await closedLoop([bare], bareShot, WARMUP_MS, PEAK_CONCURRENCY, WARMUP_SENDS);
    const proxyPeak = () =>
      sampled([proxy.child], { statements: false }, () =>
        closedLoop([bare], bareShot, PHASE_MS, PEAK_CONCURRENCY),
      );
    const bareA = await proxyPeak();
    let bestBare = bareA.rate;
    console.error(`proxy, round 1: ${fmt(bareA)}`);

    // --- 2. the relay on a fresh schema -----------------------------------------------------------
    const port = await freePort();
    const publicUrl = `https://127.0.0.1:${port}`;
    const appName = `fluxel_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const relayEnv = { ...env, BENCH_APP_NAME: appName, BENCH_PUBLIC_URL: publicUrl };
    const relay = await start<RelayInfo>('relay', { ...relayEnv, BENCH_PORT: String(port) });
    children.push(relay.child);
    const usePg = relay.info.database === 'postgres';
    let backends: Backends | undefined;
    if (usePg) {
      admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      backends = backendsOf(admin, appName);
    }
    await ask(relay.child, 'freeze');
    const device = createDpopSigner((await generateKeyPair()).privateJwk);
    const client = createRelayClient({
      baseUrl: relay.info.url,
      ca: relay.info.ca,
      pins: [spkiPin(relay.info.ca)],
      proxy: false,
      device,
    });
    await client.activate({ body: { licenseKey: relay.info.licenseKey as string } });
    await client.putCredentials({
      connection: 'shop-1',
      body: { kind: 'api-key', fields: { apiKey: API_KEY } },
    });
    const accessToken = (await client.tokens())?.accessToken as string;
    const relayUrl = `${relay.info.url}/v1/connections/shop-1/send`;
    const relayTarget: Target = {
      agent: new Agent({ connect: { ca: relay.info.ca }, connections: PEAK_CONCURRENCY }),
      url: relayUrl,
    };
    const probe = await request(`${relay.info.url}/v1/status`, { dispatcher: relayTarget.agent });
    await probe.body.dump();
    const nonce = String(probe.headers['dpop-nonce'] ?? '');
    await client.close();

    /** A relay request to `url` with `body`, its own DPoP proof and the access token. */
    const signedShot = async (
      url: string,
      body: string,
      extra: Record<string, string> = {},
    ): Promise<Shot> => {
      const proof = await device.proof({
        method: 'POST',
        url,
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
          ...extra,
        },
      };
    };
    let m = 0;
    const sign = async (): Promise<Shot> => {
      m++;
      const body = JSON.stringify({
        operation: 'order.status',
        payload: { order: `R-${m}`, status: 'shipped' },
      });
      return signedShot(relayUrl, body, { 'idempotency-key': randomUUID() });
    };
    // Pre-signed proofs, used in order; if a phase outruns them, the rest is signed on the fly.
    // Proofs are good for a minute, so each phase gets its own, signed just before it.
    let pool: Shot[] = [];
    let signedLive = 0;
    let signed = 0;
    let signingMs = 0;
    const presign = async (count: number) => {
      const t0 = performance.now();
      const shots: Shot[] = [];
      for (let i = 0; i < count; i++) shots.push(await sign());
      signingMs += performance.now() - t0;
      signed += count;
      pool = shots.reverse();
    };
    const relayShot = (): Shot | Promise<Shot> => {
      const next = pool.pop();
      if (next) return next;
      signedLive++;
      return sign();
    };
    /** Proofs for a closed-loop phase at about `rate`, with headroom. */
    // 2.5 × the expected rate (at least the best proxy round), so a sampled phase signs nothing
    // live.
    const presignFor = (rate: number, ms: number, concurrency: number) =>
      presign(
        Math.ceil(Math.min(Math.max(rate * 2.5, bestBare), 15_000) * (ms / 1000)) + concurrency,
      );
    let liveInSampled = 0;
    /** A sampled relay phase; proofs signed live during it are counted. */
    const relaySampled = async (servers: ChildProcess[], phase: () => Promise<Load>) => {
      const live = signedLive;
      const figures = await sampled(servers, { statements: true, backends }, phase);
      liveInSampled += signedLive - live;
      return figures;
    };

    await presign(WARMUP_SENDS + PEAK_CONCURRENCY);
    const warm = await closedLoop(
      [relayTarget],
      relayShot,
      WARMUP_MS,
      PEAK_CONCURRENCY,
      WARMUP_SENDS,
    );
    await presignFor(warm.rate, PHASE_MS, PEAK_CONCURRENCY);
    const fresh = await relaySampled([relay.child], () =>
      closedLoop([relayTarget], relayShot, PHASE_MS, PEAK_CONCURRENCY),
    );
    // -1: the table was never analyzed (nor vacuumed) — the fresh schema's planner state.
    const reltuples = async () =>
      admin
        ? Number(
            (
              await admin.query<{ n: number }>(
                'SELECT reltuples::float8 AS n FROM pg_class WHERE oid = $1::regclass',
                [`${relay.info.schema}.relay_idempotency`],
              )
            ).rows[0]?.n,
          )
        : undefined;
    const freshReltuples = await reltuples();
    console.error(`relay, fresh schema (reltuples ${freshReltuples}): ${fmt(fresh)}`);

    // --- 3. the relay after ANALYZE ---------------------------------------------------------------
    await ask(relay.child, 'analyze');
    await presignFor(fresh.rate, SHORT_MS / 2, PEAK_CONCURRENCY);
    await closedLoop([relayTarget], relayShot, SHORT_MS / 2, PEAK_CONCURRENCY);
    await presignFor(fresh.rate, PHASE_MS, PEAK_CONCURRENCY);
    const analyzedA = await relaySampled([relay.child], () =>
      closedLoop([relayTarget], relayShot, PHASE_MS, PEAK_CONCURRENCY),
    );
    console.error(`relay, analyzed, round 1: ${fmt(analyzedA)}`);
    // Further rounds of each, alternated, so a neighbour's load on this machine moving between
    // the proxy's phase and the relay's does not decide the ratio alone; the median round (by
    // req/s) of each server gives the headline figures, every round is printed.
    const bareRounds = [bareA];
    const relayRounds = [analyzedA];
    for (let round = 2; round <= ROUNDS; round++) {
      await closedLoop([bare], bareShot, SHORT_MS / 2, PEAK_CONCURRENCY);
      const b = await proxyPeak();
      console.error(`proxy, round ${round}: ${fmt(b)}`);
      bestBare = Math.max(bestBare, b.rate);
      bareRounds.push(b);
      const last = relayRounds[relayRounds.length - 1] as Sampled;
      await presignFor(last.rate, SHORT_MS / 2, PEAK_CONCURRENCY);
      await closedLoop([relayTarget], relayShot, SHORT_MS / 2, PEAK_CONCURRENCY);
      await presignFor(last.rate, PHASE_MS, PEAK_CONCURRENCY);
      const r = await relaySampled([relay.child], () =>
        closedLoop([relayTarget], relayShot, PHASE_MS, PEAK_CONCURRENCY),
      );
      console.error(`relay, analyzed, round ${round}: ${fmt(r)}`);
      relayRounds.push(r);
    }
    const analyzedReltuples = await reltuples();

    // --- 3b. the measured floor: the proxy + one proof check, one AES-GCM open, one
    // group-committed INSERT (relay-floor.ts), its peak rounds right after the relay's -------
    let floorPeak: Sampled | undefined;
    const floorRoundsAll: Sampled[] = [];
    if (usePg) {
      const floor = await start<{ url: string }>('floor', env);
      children.push(floor.child);
      const floorTarget: Target = {
        agent: new Agent({ connect: { ca: tls.ca }, connections: PEAK_CONCURRENCY }),
        url: `${floor.info.url}/v1/connections/shop-1/send`,
      };
      // Signed proofs, cycled (the floor checks only their signatures), each with a fresh key.
      const signedShots: Shot[] = [];
      for (let i = 0; i < 256; i++) signedShots.push(await sign());
      let f = 0;
      const floorShot = (): Shot => {
        const shot = signedShots[f++ % signedShots.length] as Shot;
        return { body: shot.body, headers: { ...shot.headers, 'idempotency-key': randomUUID() } };
      };
      await closedLoop([floorTarget], floorShot, WARMUP_MS, PEAK_CONCURRENCY, WARMUP_SENDS);
      for (let round = 1; round <= ROUNDS; round++) {
        const r = await sampled([floor.child], { statements: false }, () =>
          closedLoop([floorTarget], floorShot, PHASE_MS, PEAK_CONCURRENCY),
        );
        console.error(`floor, round ${round}: ${fmt(r)}`);
        floorRoundsAll.push(r);
      }
      floorPeak = medianRound(floorRoundsAll);
      await floorTarget.agent.destroy();
      await stop(floor.child);
    }
    const barePeak = medianRound(bareRounds);
    const analyzed = medianRound(relayRounds);
    const relayPeak = analyzed.rate;

    // --- 4. statements per send at 8 and 1 in flight ----------------------------------------------
    await presignFor(relayPeak, SHORT_MS, 8);
    const at8 = await relaySampled([relay.child], () =>
      closedLoop([relayTarget], relayShot, SHORT_MS, 8),
    );
    console.error(`relay, 8 in flight: ${fmt(at8)}`);
    await presignFor(at8.rate / 4, SHORT_MS, 1);
    const at1 = await relaySampled([relay.child], () =>
      closedLoop([relayTarget], relayShot, SHORT_MS, 1),
    );
    console.error(`relay, 1 in flight: ${fmt(at1)}`);
    // The agent's path for a folder of several records: one send-batch request of 10 items at
    // a time (one proof per request); statements per *item*.
    const BATCH_ITEMS = 10;
    const batchUrl = `${relay.info.url}/v1/send-batch`;
    let b = 0;
    const batchShot = async (): Promise<Shot> => {
      const items = Array.from({ length: BATCH_ITEMS }, () => {
        b++;
        return {
          idempotencyKey: randomUUID(),
          connection: 'shop-1',
          operation: 'order.status',
          payload: { order: `B-${b}`, status: 'shipped' },
        };
      });
      return signedShot(batchUrl, JSON.stringify({ items }));
    };
    const batchTarget: Target = { agent: relayTarget.agent, url: batchUrl };
    const batchAt1 = await relaySampled([relay.child], () =>
      closedLoop([batchTarget], batchShot, SHORT_MS, 1),
    );
    const batchStatementsPerItem = (batchAt1.statementsPerSend ?? 0) / BATCH_ITEMS;
    console.error(
      `relay, send-batch of ${BATCH_ITEMS}, 1 in flight: ${fmt(batchAt1)}; ${batchStatementsPerItem.toFixed(3)} statements per item`,
    );

    // --- 5. added p99 at 50 % and 70 % of the relay's own peak -----------------------------------
    // Proxy and relay alternated `rounds` times at the rate; each server's median round by p99.
    const latencyAt = async (rate: number, rounds: number) => {
      const proxyRounds: Latency[] = [];
      const relayRounds: Latency[] = [];
      for (let round = 1; round <= rounds; round++) {
        proxyRounds.push(await openLoop(bare, bareShot, rate, LATENCY_MS));
        await presign(Math.ceil(rate * (LATENCY_MS / 1000)) + PEAK_CONCURRENCY);
        relayRounds.push(await openLoop(relayTarget, relayShot, rate, LATENCY_MS));
        const [p, r] = [proxyRounds.at(-1), relayRounds.at(-1)] as [Latency, Latency];
        console.error(
          `p99 at ${rate} req/s, round ${round}: relay ${r.p99.toFixed(2)} ms, proxy ${p.p99.toFixed(2)} ms`,
        );
      }
      const proxy = medianByP99(proxyRounds);
      const relay = medianByP99(relayRounds);
      return {
        rate,
        p99Proxy: proxy.p99,
        p99Relay: relay.p99,
        relay,
        proxy,
        rounds: {
          relayP99RoundsMs: relayRounds.map((x) => x.p99.toFixed(1)).join(', '),
          proxyP99RoundsMs: proxyRounds.map((x) => x.p99.toFixed(1)).join(', '),
        },
      };
    };
    const at50 = await latencyAt(Math.max(1, Math.round(relayPeak * 0.5)), ROUNDS);
    const at70 = await latencyAt(Math.max(1, Math.round(relayPeak * 0.7)), ROUNDS);

    // --- 6. issue 8's figure: both at 50 % of the proxy's peak (one round: a queue) -------------
    const legacy = await latencyAt(Math.max(1, Math.round(barePeak.rate * 0.5)), 1);

    // --- 7. two relay instances over one PostgreSQL ---------------------------------------------
    let two: Sampled | undefined;
    if (usePg) {
      const dataDir2 = join(dataDir, 'second');
      mkdirSync(dataDir2, { mode: 0o700 });
      for (const shared of ['secrets.json', 'kek.key', 'tls'])
        cpSync(join(dataDir, shared), join(dataDir2, shared), { recursive: true });
      const second = await start<RelayInfo>('relay', {
        ...relayEnv,
        BENCH_DATA_DIR: dataDir2,
        BENCH_SCHEMA: relay.info.schema,
      });
      children.push(second.child);
      const secondTarget: Target = {
        agent: new Agent({ connect: { ca: second.info.ca }, connections: PEAK_CONCURRENCY }),
        url: `${second.info.url}/v1/connections/shop-1/send`,
      };
      const both = [relayTarget, secondTarget];
      await presignFor(relayPeak, SHORT_MS / 2, PEAK_CONCURRENCY);
      await closedLoop(both, relayShot, SHORT_MS / 2, PEAK_CONCURRENCY);
      await presignFor(relayPeak, PHASE_MS, PEAK_CONCURRENCY);
      two = await relaySampled([relay.child, second.child], () =>
        closedLoop(both, relayShot, PHASE_MS, PEAK_CONCURRENCY),
      );
      console.error(`two relays: ${fmt(two)}`);
      await secondTarget.agent.destroy();
      await stop(second.child);
    }
    await relayTarget.agent.destroy();
    await bare.agent.close();
    await stop(relay.child);
    await stop(proxy.child);

    // --- results ------------------------------------------------------------------------------
    const r2 = (x: number) => Number(x.toFixed(2));
    const r3 = (x: number) => Number(x.toPrecision(3));
    const common = {
      database: relay.info.database,
      proofs: `fresh per request, pre-signed (${Math.round(signed / (signingMs / 1000))}/s); ${signedLive} signed live, ${liveInSampled} of them in sampled phases`,
    };
    const freshExtra = {
      freshSchemaReqPerSec: Math.round(fresh.rate),
      freshSchemaRelayCpuUsPerSend: Math.round(fresh.cpuUsPerSend),
      ...(fresh.pgCpuUsPerSend !== undefined
        ? { freshSchemaPgCpuUsPerSend: Math.round(fresh.pgCpuUsPerSend) }
        : {}),
      freshSchemaStatementsPerSend: r3(fresh.statementsPerSend ?? 0),
      ...(freshReltuples !== undefined ? { freshSchemaReltuples: freshReltuples } : {}),
      ...(analyzedReltuples !== undefined ? { analyzedReltuples } : {}),
    };
    emit(
      'relay/cpu-per-send-vs-proxy',
      analyzed.cpuUsPerSend,
      'bare Fastify + undici proxy',
      barePeak.cpuUsPerSend,
      'µs',
      {
        relayTimesProxy: r2(analyzed.cpuUsPerSend / barePeak.cpuUsPerSend),
        proxyCpuUsPerSendRounds: rounds(bareRounds, (x) => x.cpuUsPerSend),
        relayCpuUsPerSendRounds: rounds(relayRounds, (x) => x.cpuUsPerSend),
        ...(analyzed.pgCpuUsPerSend !== undefined
          ? {
              relayPlusPostgresCpuUsPerSend: Math.round(
                analyzed.cpuUsPerSend + analyzed.pgCpuUsPerSend,
              ),
            }
          : {}),
        ...freshExtra,
        ...common,
      },
    );
    if (floorPeak)
      emit(
        'relay/cpu-per-send-vs-floor',
        analyzed.cpuUsPerSend,
        'measured floor: proxy + ES256 proof check + AES-GCM open + group-committed INSERT',
        floorPeak.cpuUsPerSend,
        'µs',
        {
          relayTimesFloor: r2(analyzed.cpuUsPerSend / floorPeak.cpuUsPerSend),
          floorTimesProxy: r2(floorPeak.cpuUsPerSend / barePeak.cpuUsPerSend),
          floorReqPerSec: Math.round(floorPeak.rate),
          floorOverProxyThroughput: r2(floorPeak.rate / barePeak.rate),
          floorCpuUsPerSendRounds: rounds(floorRoundsAll, (x) => x.cpuUsPerSend),
          floorReqPerSecRounds: rounds(floorRoundsAll, (x) => x.rate),
          ...common,
        },
      );
    else console.error('relay/cpu-per-send-vs-floor: not measured (the floor needs PostgreSQL)');
    emit(
      'relay/throughput-vs-proxy',
      relayPeak,
      'bare Fastify + undici proxy',
      barePeak.rate,
      'req/s',
      {
        inFlight: PEAK_CONCURRENCY,
        relayFailed: analyzed.failed,
        proxyReqPerSecRounds: rounds(bareRounds, (x) => x.rate),
        relayReqPerSecRounds: rounds(relayRounds, (x) => x.rate),
        freshSchemaReqPerSec: Math.round(fresh.rate),
        ...common,
      },
    );
    emitStatements('relay/pg-statements-per-send-32', analyzed, STATEMENTS_BUDGET_32, {
      inFlight: PEAK_CONCURRENCY,
      freshSchemaStatementsPerSend: r3(fresh.statementsPerSend ?? 0),
      statementsPerSendAt8: r3(at8.statementsPerSend ?? 0),
      ...common,
    });
    emitStatements('relay/pg-statements-per-send-1', at1, STATEMENTS_BUDGET_1, {
      inFlight: 1,
      reqPerSec: Math.round(at1.rate),
      batchOf10StatementsPerItemAt1: r3(batchStatementsPerItem),
      batchOf10ItemsPerSecAt1: Math.round(batchAt1.rate * 10),
      ...common,
    });
    if (analyzed.pgCpuUsPerSend !== undefined && analyzed.pgCpuUsPerSend > 0)
      emit(
        'relay/pg-cpu-per-send',
        analyzed.pgCpuUsPerSend,
        'bare proxy CPU per send',
        barePeak.cpuUsPerSend,
        'µs',
        {
          inFlight: PEAK_CONCURRENCY,
          backends: analyzed.backends ?? 0,
          lostBackends: analyzed.lostBackends ?? 0,
          ...(at1.pgCpuUsPerSend !== undefined
            ? { pgCpuUsPerSendAt1: Math.round(at1.pgCpuUsPerSend) }
            : {}),
          ...freshExtra,
          ...common,
        },
      );
    else console.error('relay/pg-cpu-per-send: not measured (no PostgreSQL backends found)');
    for (const [bench, at, pct] of [
      ['relay/added-p99-50pct', at50, 50],
      ['relay/added-p99-70pct', at70, 70],
    ] as const)
      emit(bench, at.p99Relay, 'bare Fastify + undici proxy', at.p99Proxy, 'ms', {
        addedP99Ms: r2(at.p99Relay - at.p99Proxy),
        atReqPerSec: at.rate,
        ofRelayPeakPct: pct,
        relayP50Ms: r2(percentile(at.relay.latencies, 50)),
        proxyP50Ms: r2(percentile(at.proxy.latencies, 50)),
        relayErrors: at.relay.errors,
        relayUnfinished: at.relay.unfinished,
        ...at.rounds,
        ...common,
      });
    if (two?.statementsPerSend && analyzed.statementsPerSend)
      emit(
        'relay/two-instances-statements-ratio',
        two.statementsPerSend,
        'one instance, 32 in flight',
        analyzed.statementsPerSend,
        'statements/send',
        {
          twoOverOne: r2(two.statementsPerSend / analyzed.statementsPerSend),
          inFlightPerInstance: PEAK_CONCURRENCY / 2,
          twoInstancesReqPerSec: Math.round(two.rate),
          twoInstancesFailed: two.failed,
          ...(two.pgCpuUsPerSend !== undefined
            ? { twoInstancesPgCpuUsPerSend: Math.round(two.pgCpuUsPerSend) }
            : {}),
          ...common,
        },
      );
    else console.error('relay/two-instances-statements-ratio: not measured (needs PostgreSQL)');
    // Issue 8's line: throughput ratio, and added p99 at 50 % of the *proxy's* peak.
    emit(
      'relay/forward-vs-bare-proxy',
      relayPeak,
      'bare Fastify + undici proxy',
      barePeak.rate,
      'req/s',
      {
        p99AddedMs: r2(legacy.p99Relay - legacy.p99Proxy),
        p99RelayMs: r2(legacy.p99Relay),
        p99BareMs: r2(legacy.p99Proxy),
        atReqPerSec: legacy.rate,
        relayErrors: legacy.relay.errors,
        relayUnfinished: legacy.relay.unfinished,
        p99RelayAtHalfOwnPeakMs: r2(at50.p99Relay),
        relayCpuUsPerReq: Math.round(analyzed.cpuUsPerSend),
        bareCpuUsPerReq: Math.round(barePeak.cpuUsPerSend),
        ...(analyzed.pgCpuUsPerSend !== undefined
          ? { relayPostgresCpuUsPerReq: Math.round(analyzed.pgCpuUsPerSend) }
          : {}),
        ...common,
        seconds: r2((Date.now() - began) / 1000),
      },
    );
  } finally {
    clearTimeout(watchdog);
    await admin?.end().catch(() => {});
    for (const child of children) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The median round by req/s (of an even count, the lower middle one). */
function medianRound(all: readonly Sampled[]): Sampled {
  const sorted = [...all].sort((x, y) => x.rate - y.rate);
  return sorted[(sorted.length - 1) >> 1] as Sampled;
}

/** Every round's figure, in run order, for `extra`. */
function rounds(all: readonly Sampled[], figure: (s: Sampled) => number): string {
  return all.map((x) => Math.round(figure(x))).join(', ');
}

function emitStatements(
  bench: string,
  at: Sampled,
  budget: number,
  extra: Record<string, number | string>,
) {
  const perSend = at.statementsPerSend ?? 0;
  if (!(perSend > 0)) {
    console.error(`${bench}: no statements counted (${perSend}); not emitted`);
    return;
  }
  emit(bench, perSend, 'issue 18 budget', budget, 'statements/send', {
    sends: at.ok,
    ...extra,
  });
}

function fmt(s: Sampled): string {
  const parts = [
    `${Math.round(s.rate)} req/s`,
    `${s.failed} failed`,
    `CPU ${Math.round(s.cpuUsPerSend)} µs/send`,
  ];
  if (s.statementsPerSend !== undefined)
    parts.push(`${s.statementsPerSend.toFixed(3)} statements/send`);
  if (s.pgCpuUsPerSend !== undefined)
    parts.push(`PostgreSQL ${Math.round(s.pgCpuUsPerSend)} µs/send (${s.backends} backends)`);
  return parts.join(', ');
}

async function fire(target: Target, shot: Shot): Promise<boolean> {
  const res = await request(target.url, {
    method: 'POST',
    dispatcher: target.agent,
    headers: shot.headers,
    body: shot.body,
  });
  await res.body.dump();
  return res.statusCode === 200;
}

/**
 * `concurrency` requests in flight for `ms` (workers spread over the targets); with `sends`, also
 * until that many were sent (a warm-up), but never past 6 × `ms`.
 */
async function closedLoop(
  targets: readonly Target[],
  next: () => Shot | Promise<Shot>,
  ms: number,
  concurrency: number,
  sends = 0,
): Promise<Load> {
  const start = performance.now();
  const end = start + ms;
  const cap = start + 6 * ms;
  let ok = 0;
  let failed = 0;
  const going = () => {
    const now = performance.now();
    return now < end || (ok + failed < sends && now < cap);
  };
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const target = targets[worker % targets.length] as Target;
      while (going()) {
        if (await fire(target, await next())) ok++;
        else failed++;
      }
    }),
  );
  if (failed > 0) console.error(`${targets[0]?.url}: ${failed} requests failed`);
  const seconds = (performance.now() - start) / 1000;
  return { ok, failed, seconds, rate: ok / seconds };
}

/** An open-loop phase's latencies (ms) with their p99. */
interface Latency {
  latencies: number[];
  p99: number;
  errors: number;
  unfinished: number;
}

/** The median round by p99 (of an even count, the lower middle one). */
function medianByP99(all: readonly Latency[]): Latency {
  const sorted = [...all].sort((x, y) => x.p99 - y.p99);
  return sorted[(sorted.length - 1) >> 1] as Latency;
}

/** Fixed open-loop rate for `ms`; latency counted from each request's scheduled start. */
async function openLoop(
  target: Target,
  next: () => Shot | Promise<Shot>,
  rate: number,
  ms: number,
): Promise<Latency> {
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let finished = 0;
  let errors = 0;
  const start = performance.now();
  const total = Math.max(1, Math.floor((rate * ms) / 1000));
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + (sent * 1000) / rate;
      inFlight.push(
        Promise.resolve(next())
          .then((shot) => fire(target, shot))
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
  const figures = {
    latencies: [...latencies],
    p99: percentile(latencies, 99),
    errors,
    unfinished,
  };
  // The queue still runs; let it finish (bounded) so it does not load the next phase.
  await Promise.race([
    Promise.all(inFlight),
    new Promise((r) => setTimeout(r, QUEUE_WAIT_MS).unref()),
  ]);
  return figures;
}

// --- entry: a server role, or the load side -------------------------------------------------
// (last, so every declaration above is initialised before the top-level await runs)

if (ROLE === 'counterpart') {
  const counterpart = await createCounterpart({ apiKey: API_KEY });
  announce({ url: counterpart.url });
  onStop(() => counterpart.close());
} else if (ROLE === 'relay') {
  await relayRole();
} else if (ROLE === 'floor') {
  const tls = ensureDevTls(join(process.env.BENCH_DATA_DIR as string, 'tls'));
  const floor = await startFloor({
    tls,
    counterpartUrl: process.env.COUNTERPART_URL as string,
    apiKey: API_KEY,
    databaseUrl: withApplicationName(DATABASE_URL, `fluxel_floor_${process.pid}`),
    schema: `relay_floor_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
  });
  announce({ url: floor.url });
  onStop(() => floor.close());
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
