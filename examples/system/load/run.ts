/**
 * The load and fault suite (`pnpm --filter @fluxel-example/system test:load`).
 *
 * Real processes: two relay instances over one PostgreSQL schema (through a TCP proxy we can
 * cut) sharing Redis, the counterpart, and several `fluxel-agent run` processes, each with
 * its own license and device key, reaching both relays through one TCP balancer (the relays'
 * common public URL, as behind a load balancer). For `--duration` seconds (default 120, or
 * FLUXEL_LOAD_SECONDS; `--agents`, `--rate` records/s per agent) the agents' drop folders get
 * a steady stream of records and the counterpart sends signed payment webhooks to both relays
 * directly, while on a schedule: the counterpart goes down and up (its outage switch), relay B
 * is killed with SIGKILL and restarted on its port, and the database connections are cut and
 * restored. One more license ("dormant") never picks up; its held events are aged past the
 * 7-day horizon (their `expires_at` moved into the past, as the relay's tests do with a clock)
 * and must be expired by the relays' purge, never handed out. FLUXEL_LOAD_BURST=<ms> makes
 * the kill and the cut land on a burst of sends in flight.
 *
 * After a drain period: every record delivered exactly once at the counterpart (by order id
 * and by idempotency key), nothing dead-lettered or rejected, every accepted webhook in the
 * right agent's inbox exactly once (or expired, for the dormant license), no mailbox row
 * left, both audit logs verify against the pinned key, and no process grew its RSS after
 * warm-up beyond the bound. Prints a summary table, writes `.reports/load.json`, exits 0/1.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signingKeyFromSeed, verifyingKeyFromRaw } from '@fluxel/audit';
import { verifyPath } from '@fluxel/audit/node';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import {
  createRelayClient,
  FileOutboxStore,
  type NodeRelayClient,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import pg from 'pg';
import { createClient } from 'redis';
import { request } from 'undici';
import { type Child, RssSampler, runTs, type SpawnOptions, spawnTs, stop } from './procs.ts';
import {
  type Check,
  type MemoryFigure,
  memoryFigure,
  percentile,
  table,
  writeReport,
} from './report.ts';
import { type Balancer, freePort, startBalancer, startTcpProxy } from './tcp-proxy.ts';

// --- settings ---------------------------------------------------------------------------

const { values: argv } = parseArgs({
  options: {
    duration: { type: 'string' },
    agents: { type: 'string' },
    rate: { type: 'string' },
  },
});
const env = process.env;
const inCI = /^(1|true|yes)$/i.test(env.CI ?? '');
const DURATION_S = Number(argv.duration ?? env.FLUXEL_LOAD_SECONDS ?? 120);
const AGENTS = Number(argv.agents ?? env.FLUXEL_LOAD_AGENTS ?? 4);
/** Records per second per agent. */
const RATE = Number(argv.rate ?? env.FLUXEL_LOAD_RATE ?? 3);
const WEBHOOK_EVERY_MS = 600;
/** Longest wait after the load for everything to arrive. */
const DRAIN_MAX_MS = 90_000;
/** A pending idempotency record of a dead attempt is taken over after this (> connector timeout 10 s). */
const PENDING_LEASE_MS = 20_000;
const WARMUP_MS = Math.min(30_000, (DURATION_S * 1000) / 4);
/** RSS growth allowed after warm-up (median of the last 10 s − median of 10 s after warm-up). */
const RSS_BOUND_MIB: Record<string, number> = { relay: 64, agent: 48, counterpart: 48 };
const DATABASE_URL = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (!(DURATION_S >= 10) || !(AGENTS >= 2) || !(RATE > 0)) {
  console.error(
    'usage: run.ts [--duration SECONDS ≥ 10] [--agents N ≥ 2] [--rate PER_AGENT_PER_S]',
  );
  process.exit(2);
}

const here = import.meta.dirname;
const root = resolve(here, '../../..');
const examples = resolve(root, 'examples');
const REPORT = resolve(here, '../.reports/load.json');
const RELAY_MAIN = join(examples, 'relay/src/main.ts');
const COUNTERPART_MAIN = join(examples, 'counterpart/src/main.ts');
const AGENT_CLI = join(examples, 'agent/src/cli.ts');

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (line: string) => console.log(`[load ${elapsed()}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- preconditions ----------------------------------------------------------------------

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//…@')} (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisReachable(): Promise<string | undefined> {
  const client = createClient({
    url: REDIS_URL,
    socket: { connectTimeout: 3000, reconnectStrategy: false },
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${REDIS_URL} (${(error as Error).message})`;
  } finally {
    await client.close().catch(() => {});
  }
}

const unbuilt = ['audit', 'crypto', 'license', 'relay-client', 'acme-lite'].filter(
  (p) => !existsSync(join(root, 'packages', p, 'dist', 'index.js')),
);
if (unbuilt.length > 0) {
  console.error(
    `load suite: the packages ${unbuilt.join(', ')} are not built; run \`pnpm build\` first.`,
  );
  process.exit(1);
}
const missing = (await Promise.all([postgresReachable(), redisReachable()])).filter(
  (m): m is string => m !== undefined,
);
if (missing.length > 0) {
  const what = `load suite needs ${missing.join(' and ')}`;
  if (inCI) {
    console.error(`${what}: unreachable under CI=true — this is a failure, not a skip.`);
    process.exit(1);
  }
  console.warn(`${what}: unreachable; load suite SKIPPED (set CI=true to make this a failure).`);
  writeReport(REPORT, { skipped: true, reason: missing });
  process.exit(0);
}

// --- set-up -----------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'fluxel-load-'));
const logs = join(tmp, 'logs');
mkdirSync(logs, { recursive: true });
const schema = `load_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
const children = new Set<Child>();
const sampler = new RssSampler();
const checks: Check[] = [];
const faults: { at: string; fault: string; detail: string }[] = [];
let loadStartedAt = 0;
const sinceLoad = () => `${((Date.now() - loadStartedAt) / 1000).toFixed(1)}s`;

/** The environment a child gets: ours minus anything that would switch on unrelated parts. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...env };
  for (const key of Object.keys(base))
    if (/^(RELAY_|COUNTERPART_|FLUXEL_AGENT|AMQP_URL|NATS_URL|DATABASE_|REDIS_URL)/.test(key))
      delete base[key];
  return { ...base, NODE_ENV: 'production', ...extra };
}

const dbUrl = new URL(DATABASE_URL);
const proxy = await startTcpProxy({
  host: dbUrl.hostname,
  port: Number(dbUrl.port || 5432),
});
const proxiedUrl = new URL(DATABASE_URL);
proxiedUrl.hostname = '127.0.0.1';
proxiedUrl.port = String(proxy.port);

const counterpartApiKey = randomBytes(24).toString('base64url');
const counterpartAdminKey = randomBytes(24).toString('base64url');
const relayDirA = join(tmp, 'relay-a');
const caPath = join(relayDirA, 'tls', 'ca.pem');

let exitCode = 1;
let balancer: Balancer | undefined;
let cleanedUp = false;
async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  sampler.stop();
  await Promise.all([...children].map((c) => stop(c, 10_000)));
  await proxy.close();
  await balancer?.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  try {
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch (error) {
    console.error(`could not drop schema ${schema}: ${(error as Error).message}`);
  } finally {
    await admin.end().catch(() => {});
  }
}
process.on('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});
const fatal = (error: unknown) => {
  console.error(`load suite: ${(error as Error)?.stack ?? String(error)}`);
  writeReport(REPORT, { ok: false, error: String((error as Error)?.message ?? error), faults });
  console.error(`logs kept in ${logs}`);
  void cleanup().finally(() => process.exit(1));
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
process.on('exit', () => {
  for (const c of children) if (c.alive()) c.proc.kill('SIGKILL');
});

function track(name: string, child: Child): Child {
  children.add(child);
  sampler.track(name, child);
  void child.exited.then(() => children.delete(child));
  return child;
}

// counterpart (plain HTTP on loopback, port from the OS)
const counterpart = track(
  'counterpart',
  spawnTs('counterpart', COUNTERPART_MAIN, [], {
    cwd: join(examples, 'counterpart'),
    env: childEnv({
      COUNTERPART_PORT: '0',
      COUNTERPART_API_KEY: counterpartApiKey,
      COUNTERPART_ADMIN_KEY: counterpartAdminKey,
      COUNTERPART_RELAY_CA: caPath,
      COUNTERPART_CONTROL: 'stdin',
      // Like a payment provider: a repeated Idempotency-Key gets the first answer, no new
      // effect. The relay is at-least-once towards the target (a kill between the target's
      // answer and the outcome record re-forwards after the lease); exactly-once effects rest
      // on the key. Re-forwards are counted as `replayed` and reported.
      COUNTERPART_IDEMPOTENT: '1',
      COUNTERPART_WEBHOOK_URL: 'https://127.0.0.1:1/v1/hooks/unused',
    }),
    log: join(logs, 'counterpart.log'),
    stdin: true,
  }),
);
const counterpartUrl = (
  await counterpart.waitFor(/counterpart listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000)
)[1] as string;

async function counterpartAdmin(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await request(`${counterpartUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${counterpartAdminKey}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`counterpart ${path}: ${res.statusCode}`);
  return json;
}

// relays
interface RelaySlot {
  readonly name: string;
  readonly dir: string;
  port: number;
  url: string;
  child: Child;
  restarts: number;
}
function relayEnv(dir: string, port: number, issue: number): NodeJS.ProcessEnv {
  return childEnv({
    RELAY_DATA_DIR: dir,
    RELAY_PORT: String(port),
    // Both instances behind one balancer: the URL agents use (DPoP `htu`) is the balancer's.
    RELAY_PUBLIC_URL: publicUrl,
    DATABASE_URL: proxiedUrl.toString(),
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    COUNTERPART_URL: counterpartUrl,
    RELAY_DEV_TOKENS: '0',
    RELAY_DEMO_LICENSE: '0',
    ...(issue > 0 ? { RELAY_ISSUE_LICENSE: String(issue) } : {}),
    RELAY_PURGE_INTERVAL_MS: '2000',
    RELAY_PENDING_LEASE_MS: String(PENDING_LEASE_MS),
    // Every process here is 127.0.0.1; the per-IP window would count all of them together.
    RELAY_RATE_LIMIT_PER_IP: '1000000',
    RELAY_RATE_LIMIT_PER_LICENSE: '100000',
  });
}
const relays: RelaySlot[] = [];
async function startRelay(
  name: string,
  dir: string,
  port: number,
  issue: number,
): Promise<{ child: Child; url: string; keys: string[] }> {
  const keys: string[] = [];
  const child = spawnTs(name, RELAY_MAIN, [], {
    cwd: join(examples, 'relay'),
    env: relayEnv(dir, port, issue),
    log: join(logs, `${name}.log`),
  });
  const off = child.onLine((line) => {
    const m = /demo license key \(shown once\): (\S+)/.exec(line);
    if (m) keys.push(m[1] as string);
  });
  await child.waitFor(/relay listening on https:\/\/127\.0\.0\.1:\d+/, 90_000);
  await child.waitFor(/^relay ready$/, 60_000);
  off();
  return { child, url: `https://127.0.0.1:${port}`, keys };
}

const DORMANT = AGENTS; // index of the license that never picks up
// Each instance gets a port from the OS up front (it keeps it across its restart); the agents
// reach both through one TCP balancer, as behind a load balancer in production.
const ports = [await freePort(), await freePort()];
balancer = await startBalancer(() => relays.filter((r) => r.child.alive()).map((r) => r.port));
const publicUrl = `https://127.0.0.1:${balancer.port}`;
say(`schema ${schema}, PostgreSQL through proxy :${proxy.port}, Redis ${REDIS_URL}, temp ${tmp}`);
const startedA = await startRelay('relay-a', relayDirA, ports[0] as number, AGENTS + 1);
if (startedA.keys.length !== AGENTS + 1)
  throw new Error(`relay-a issued ${startedA.keys.length} licenses, expected ${AGENTS + 1}`);
const relayDirB = join(tmp, 'relay-b');
mkdirSync(relayDirB, { recursive: true, mode: 0o700 });
for (const f of ['secrets.json', 'kek.key', 'tls'])
  cpSync(join(relayDirA, f), join(relayDirB, f), { recursive: true });
const startedB = await startRelay('relay-b', relayDirB, ports[1] as number, 0);
relays.push(
  {
    name: 'relay-a',
    dir: relayDirA,
    port: Number(new URL(startedA.url).port),
    url: startedA.url,
    child: track('relay-a', startedA.child),
    restarts: 0,
  },
  {
    name: 'relay-b',
    dir: relayDirB,
    port: Number(new URL(startedB.url).port),
    url: startedB.url,
    child: track('relay-b', startedB.child),
    restarts: 0,
  },
);
say(
  `relays up: ${relays.map((r) => r.url).join(', ')} behind ${publicUrl}; counterpart ${counterpartUrl}`,
);

// agents: activate, store credentials, run
const passphrase = randomBytes(18).toString('base64url');
const webhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
interface AgentSlot {
  readonly index: number;
  readonly dir: string;
  readonly secret: string;
  /** The path of this license's own hook (`/v1/hooks/shop-1/<hookId>`), from `credentials put`. */
  hookPath?: string;
  child?: Child;
  dropped: number;
}
const agents: AgentSlot[] = Array.from({ length: AGENTS }, (_, i) => ({
  index: i,
  dir: join(tmp, `agent-${i}`),
  secret: webhookSecret(),
  dropped: 0,
}));
const agentOptions = (a: AgentSlot, extra: Record<string, string> = {}): SpawnOptions => ({
  cwd: join(examples, 'agent'),
  env: childEnv({ FLUXEL_AGENT_KEY_PASSPHRASE: passphrase, ...extra }),
  log: join(logs, `agent-${a.index}.log`),
});
await Promise.all(
  agents.map(async (a) => {
    const key = startedA.keys[a.index] as string;
    const activated = await runTs(
      `agent-${a.index} activate`,
      AGENT_CLI,
      [
        'activate',
        key,
        '--relay',
        publicUrl,
        '--ca',
        caPath,
        '--key-store',
        'file',
        '--config',
        a.dir,
        '--json',
      ],
      agentOptions(a),
    );
    if (activated.code !== 0)
      throw new Error(`agent-${a.index}: activate exited ${activated.code}`);
    const creds = await runTs(
      `agent-${a.index} credentials`,
      AGENT_CLI,
      [
        'credentials',
        'put',
        'shop-1',
        '--field-env',
        'apiKey=LOAD_API_KEY',
        '--field-env',
        'webhookSecret=LOAD_WEBHOOK_SECRET',
        '--config',
        a.dir,
        '--json',
      ],
      agentOptions(a, { LOAD_API_KEY: counterpartApiKey, LOAD_WEBHOOK_SECRET: a.secret }),
    );
    if (creds.code !== 0) throw new Error(`agent-${a.index}: credentials put exited ${creds.code}`);
    a.hookPath = hookPathFrom(
      creds.stdout.map((l) => {
        try {
          return (JSON.parse(l) as { webhookUrl?: unknown }).webhookUrl;
        } catch {
          return undefined;
        }
      }),
      `agent-${a.index}`,
    );
    a.child = track(
      `agent-${a.index}`,
      spawnTs(`agent-${a.index}`, AGENT_CLI, ['run', '--config', a.dir], agentOptions(a)),
    );
    await a.child.waitFor(/running: watching/, 60_000);
  }),
);

/** The path of a license's own hook URL (relays behind the balancer share it). */
function hookPathFrom(urls: readonly unknown[], who: string): string {
  const url = urls.find((u): u is string => typeof u === 'string');
  if (!url) throw new Error(`${who}: credentials put showed no webhook URL`);
  return new URL(url).pathname;
}

// the dormant license: activated in this process, never picks up
const dormantSecret = webhookSecret();
const ca = readFileSync(caPath, 'utf8');
let dormantTokens: StoredTokens | undefined;
const dormant: NodeRelayClient = createRelayClient({
  baseUrl: publicUrl,
  ca,
  pins: [spkiPin(ca)],
  proxy: false,
  device: createDpopSigner((await generateKeyPair()).privateJwk),
  tokens: {
    load: () => dormantTokens,
    save: (t: StoredTokens) => {
      dormantTokens = t;
    },
  },
});
const dormantLicense = (
  await dormant.activate({ body: { licenseKey: startedA.keys[DORMANT] as string } })
).licenseId;
await dormant.putCredentials({
  connection: 'shop-1',
  body: { kind: 'api-key', fields: { apiKey: counterpartApiKey, webhookSecret: dormantSecret } },
});
const dormantHookPath = hookPathFrom(
  [(await dormant.webhookEndpoint({ connection: 'shop-1' })).url],
  'dormant',
);
say(`${AGENTS} agents running through the balancer, dormant license set`);

// --- load -------------------------------------------------------------------------------

const dropTimes = new Map<string, number>();
function dropRecord(a: AgentSlot): void {
  const seq = ++a.dropped;
  const order = `L${a.index}-${seq}`;
  const name = `${String(seq).padStart(7, '0')}.json`;
  const record = {
    connection: 'shop-1',
    operation: 'order.status',
    payload: { order, status: 'shipped' },
  };
  const tmpName = join(a.dir, 'outgoing', `.${name}`);
  writeFileSync(tmpName, JSON.stringify(record));
  renameSync(tmpName, join(a.dir, 'outgoing', name));
  dropTimes.set(order, Date.now());
}

interface Hook {
  readonly id: string;
  readonly license: number; // agent index, or DORMANT
  attempts: number;
  inFlight: boolean;
  accepted: boolean;
  lastSentAt: number;
  lastError?: string;
}
const hooks = new Map<string, Hook>();
let hookSeq = 0;
let sendDormant = true;
function sendHook(hook: Hook): void {
  const relay = relays[(hook.attempts + hookSeq) % 2] as RelaySlot;
  hook.attempts++;
  hook.inFlight = true;
  hook.lastSentAt = Date.now();
  const slot = hook.license === DORMANT ? undefined : (agents[hook.license] as AgentSlot);
  const secret = slot ? slot.secret : dormantSecret;
  const hookPath = slot ? (slot.hookPath as string) : dormantHookPath;
  counterpart.write(
    JSON.stringify({
      id: hook.id,
      url: `${relay.url}${hookPath}`,
      secret,
      payload: { paymentId: hook.id, amount: 1000 + hookSeq, currency: 'EUR' },
    }),
  );
}
counterpart.onLine((line) => {
  if (!line.startsWith('webhook-result ')) return;
  const result = JSON.parse(line.slice('webhook-result '.length)) as {
    id: string;
    status?: number;
    error?: string;
  };
  const hook = hooks.get(result.id);
  if (!hook) return;
  hook.inFlight = false;
  if (result.status === 204) hook.accepted = true;
  else hook.lastError = result.error ?? `status ${result.status}`;
});
function newHook(): void {
  const candidates = sendDormant ? AGENTS + 1 : AGENTS;
  const license = hookSeq % candidates;
  hookSeq++;
  const hook: Hook = {
    id: `msg_load_${hookSeq}_${randomBytes(4).toString('hex')}`,
    license,
    attempts: 0,
    inFlight: false,
    accepted: false,
    lastSentAt: 0,
  };
  hooks.set(hook.id, hook);
  sendHook(hook);
}
/** Retries webhooks that failed (relay down) or got no answer within 20 s — same id. */
function retryHooks(): void {
  const now = Date.now();
  for (const hook of hooks.values()) {
    if (hook.accepted) continue;
    if (hook.inFlight && now - hook.lastSentAt < 20_000) continue;
    if (!hook.inFlight && now - hook.lastSentAt < 1000) continue;
    sendHook(hook);
  }
}

async function ageDormantEvents(): Promise<number> {
  // The 7-day horizon, played by moving the held rows' expiry into the past (as the relay
  // tests do with an injected clock) — only for the dormant license.
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `UPDATE ${schema}.relay_mailbox SET expires_at = $2 WHERE license_id = $1`,
      [dormantLicense, Date.now() - 1],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

/**
 * FLUXEL_LOAD_BURST=<ms>: right before the relay kill and the database cut, drop 15 records
 * per agent concerned and strike <ms> later, so the fault lands on sends in flight (without
 * it the faults hit whatever the steady load has in flight at that moment).
 */
async function burst(which: AgentSlot[]): Promise<void> {
  const ms = Number(env.FLUXEL_LOAD_BURST ?? 0);
  if (!(ms > 0)) return;
  for (const a of which) for (let i = 0; i < 15; i++) dropRecord(a);
  await sleep(ms);
}

/** Idempotency records still pending (sends claimed but not yet recorded as delivered). */
async function pendingRecords(): Promise<number> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM ${schema}.relay_idempotency WHERE state = 'pending'`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await admin.end();
  }
}

async function restartRelay(slot: RelaySlot): Promise<void> {
  const started = await startRelay(`${slot.name}`, slot.dir, slot.port, 0);
  slot.child = track(`${slot.name}#${slot.restarts + 1}`, started.child);
  slot.restarts++;
}

const D = DURATION_S * 1000;
const schedule = [
  {
    at: 0.15 * D,
    name: 'counterpart down',
    run: () => counterpartAdmin('POST', '/admin/outage', { down: true }),
  },
  {
    at: 0.15 * D + Math.max(5000, 0.12 * D),
    name: 'counterpart up',
    run: () => counterpartAdmin('POST', '/admin/outage', { down: false }),
  },
  {
    at: 0.4 * D,
    name: 'relay-b SIGKILL + restart',
    run: async () => {
      const slot = relays[1] as RelaySlot;
      const victim = slot.child;
      await burst(agents);
      victim.proc.kill('SIGKILL');
      const { signal } = await victim.exited;
      if (signal !== 'SIGKILL') throw new Error(`relay-b ended by ${signal}, not SIGKILL`);
      faults.push({
        at: sinceLoad(),
        fault: 'relay-b killed',
        detail: `pid ${victim.pid} SIGKILL; ${await pendingRecords()} sends pending in the database then`,
      });
      await sleep(2000);
      await restartRelay(slot);
      await sleep(1000);
      const moved = balancer?.shed((relays[0] as RelaySlot).port) ?? 0;
      return `restarted as pid ${slot.child.pid} on the same port; ${moved} agent connections to relay-a reset to rebalance`;
    },
  },
  {
    at: 0.65 * D,
    name: 'database cut',
    run: async () => {
      await burst(agents);
      const cut = proxy.cut();
      return `${cut} connections reset, new ones refused; ${await pendingRecords()} sends pending`;
    },
  },
  {
    at: 0.65 * D + Math.max(4000, 0.07 * D),
    name: 'database restored',
    run: () => {
      proxy.restore();
      return `refused ${proxy.stats.refused} connection attempts meanwhile`;
    },
  },
  {
    at: 0.85 * D,
    name: 'dormant events aged past the horizon',
    run: async () => {
      sendDormant = false;
      // let webhooks to the dormant license still in flight settle first
      const until = Date.now() + 15_000;
      while (
        [...hooks.values()].some((h) => h.license === DORMANT && !h.accepted) &&
        Date.now() < until
      ) {
        retryHooks();
        await sleep(200);
      }
      const n = await ageDormantEvents();
      const seen = await dormant.pickup({ wait: 0, limit: 100 });
      if (seen.events.length > 0)
        throw new Error(`${seen.events.length} expired events handed out`);
      return `${n} held events aged; a pickup right after got none`;
    },
  },
];

sampler.start(1000);
loadStartedAt = Date.now();
say(
  `load: ${DURATION_S}s, ${AGENTS} agents × ${RATE} records/s, a webhook every ${WEBHOOK_EVERY_MS} ms`,
);
const faultRuns: Promise<void>[] = [];
for (const step of schedule) {
  faultRuns.push(
    (async () => {
      await sleep(step.at);
      const at = sinceLoad();
      try {
        const detail = await step.run();
        faults.push({ at, fault: step.name, detail: typeof detail === 'string' ? detail : 'ok' });
        say(`fault at ${at}: ${step.name}${typeof detail === 'string' ? ` — ${detail}` : ''}`);
      } catch (error) {
        faults.push({ at, fault: step.name, detail: `FAILED: ${(error as Error).message}` });
        say(`fault at ${at}: ${step.name} FAILED: ${(error as Error).message}`);
      }
    })(),
  );
}
let nextHookAt = loadStartedAt;
while (Date.now() - loadStartedAt < D) {
  const since = (Date.now() - loadStartedAt) / 1000;
  for (const a of agents) while (a.dropped < Math.floor(since * RATE)) dropRecord(a);
  if (Date.now() >= nextHookAt) {
    newHook();
    nextHookAt += WEBHOOK_EVERY_MS;
  }
  retryHooks();
  await sleep(50);
}
const loadEndedAt = Date.now();
await Promise.all(faultRuns);
say(`load done: ${dropTimes.size} records dropped, ${hooks.size} webhooks; draining`);

// --- drain ------------------------------------------------------------------------------

interface Effect {
  seq: number;
  operation: string;
  idempotencyKey: string | null;
  body: { order?: string };
  at: string;
}
let replayedByTarget = 0;
const effects = async () => {
  const answer = (await counterpartAdmin('GET', '/admin/effects')) as {
    effects: Effect[];
    replayed?: number;
  };
  replayedByTarget = answer.replayed ?? 0;
  return answer.effects;
};
const inboxOf = (a: AgentSlot): string[] => {
  try {
    return readdirSync(join(a.dir, 'inbox')).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
};
const agentState = (a: AgentSlot) => {
  try {
    return JSON.parse(readFileSync(join(a.dir, 'state.json'), 'utf8')) as {
      outbox: { depth: number; dead: number };
    };
  } catch {
    return undefined;
  }
};
let drained = false;
let lastEffects: Effect[] = [];
const drainDeadline = Date.now() + DRAIN_MAX_MS;
let lastNote = 0;
let idleRounds = 0;
while (Date.now() < drainDeadline) {
  retryHooks();
  lastEffects = await effects();
  const orders = new Set(lastEffects.map((e) => e.body.order));
  const missingRecords = [...dropTimes.keys()].filter((o) => !orders.has(o)).length;
  const pendingHooks = [...hooks.values()].filter((h) => !h.accepted).length;
  const picked = new Set(agents.flatMap(inboxOf));
  const unpicked = [...hooks.values()].filter(
    (h) => h.license !== DORMANT && !picked.has(`${h.id}.json`),
  ).length;
  const states = agents.map(agentState);
  const dead = states.reduce((n, st) => n + (st?.outbox.dead ?? 0), 0);
  const waiting = states.reduce((n, st) => n + (st?.outbox.depth ?? 1), 0);
  // Done when everything arrived and no agent still holds a message (one not yet confirmed
  // would be sent again: a late duplicate must have the chance to show).
  if (missingRecords === 0 && pendingHooks === 0 && unpicked === 0 && waiting === 0) {
    drained = true;
    break;
  }
  // Nothing left that could still arrive (the rest is dead-lettered): stop waiting.
  if (pendingHooks === 0 && unpicked === 0 && waiting === 0 && missingRecords <= dead) {
    if (++idleRounds >= 8) break;
  } else idleRounds = 0;
  if (Date.now() - lastNote > 10_000) {
    lastNote = Date.now();
    say(
      `draining: ${missingRecords} records not yet delivered, ${pendingHooks} webhooks not accepted, ${unpicked} events not picked up, ${dead} dead letters`,
    );
  }
  await sleep(1000);
}
const drainMs = Date.now() - loadEndedAt;
say(drained ? `drained after ${(drainMs / 1000).toFixed(1)}s` : 'drain timed out');
// A few more seconds: anything delivered twice late would show up now.
await sleep(3000);
lastEffects = await effects();
sampler.sample();

// --- stop everything, then look ---------------------------------------------------------

const memory: MemoryFigure[] = sampler.incarnations.map((inc) =>
  memoryFigure(
    inc,
    loadStartedAt,
    WARMUP_MS,
    RSS_BOUND_MIB[inc.process.replace(/[-#].*$/, '')] ?? 64,
  ),
);
sampler.stop();
const stopped: Record<string, string> = {};
for (const a of agents) if (a.child) stopped[a.child.name] = await stop(a.child);
for (const r of relays) stopped[r.child.name] = await stop(r.child);
stopped.counterpart = await stop(counterpart);
await dormant.close();

// records: exactly once, by order and by idempotency key
const byOrder = new Map<string, number>();
const byKey = new Map<string, number>();
for (const e of lastEffects) {
  const order = e.body.order ?? '?';
  byOrder.set(order, (byOrder.get(order) ?? 0) + 1);
  if (e.idempotencyKey) byKey.set(e.idempotencyKey, (byKey.get(e.idempotencyKey) ?? 0) + 1);
}
const lost = [...dropTimes.keys()].filter((o) => !byOrder.has(o));
const dupOrders = [...byOrder].filter(([, n]) => n > 1).map(([o, n]) => `${o}×${n}`);
const dupKeys = [...byKey].filter(([, n]) => n > 1).map(([k, n]) => `${k}×${n}`);
const unknown = [...byOrder.keys()].filter((o) => !dropTimes.has(o));
const noKey = lastEffects.filter((e) => !e.idempotencyKey).length;
const duplicates = lastEffects.length - byOrder.size;

// dead letters, rejected and left-over files, from the stopped agents' own stores
let deadLetters = 0;
let leftInOutbox = 0;
let rejected = 0;
let leftInDropFolder = 0;
const deadDetail: string[] = [];
for (const a of agents) {
  const store = await FileOutboxStore.open(join(a.dir, 'outbox'));
  try {
    const stats = await store.stats();
    deadLetters += stats.dead;
    leftInOutbox += stats.depth;
    for (const d of await store.deadLetters())
      deadDetail.push(`agent-${a.index} ${d.id}: ${d.lastError?.code ?? '?'}`);
  } finally {
    await store.close();
  }
  const files = (dir: string) => {
    try {
      return readdirSync(join(a.dir, dir)).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  };
  rejected += files('rejected').length;
  leftInDropFolder += files('outgoing').length + files('outgoing/.claimed').length;
}

// mailbox: every accepted webhook picked up by its own agent exactly once, or expired
const acceptedHooks = [...hooks.values()].filter((h) => h.accepted);
const agentHooks = acceptedHooks.filter((h) => h.license !== DORMANT);
const dormantHooks = acceptedHooks.filter((h) => h.license === DORMANT);
let pickedRight = 0;
const pickedWrong: string[] = [];
const notPicked: string[] = [];
const inboxes = agents.map((a) => new Set(inboxOf(a)));
for (const h of agentHooks) {
  const holders = inboxes.flatMap((set, i) => (set.has(`${h.id}.json`) ? [i] : []));
  if (holders.length === 1 && holders[0] === h.license) pickedRight++;
  else if (holders.length === 0) notPicked.push(h.id);
  else pickedWrong.push(`${h.id} in agent(s) ${holders.join(',')}, for agent ${h.license}`);
}
const strayInbox = inboxes
  .flatMap((set) => [...set])
  .filter((f) => !hooks.has(f.replace(/\.json$/, '')));

// database leftovers
const admin = new pg.Client({ connectionString: DATABASE_URL });
await admin.connect();
const leftRows = (
  await admin.query(`SELECT license_id, count(*)::int AS n FROM ${schema}.relay_mailbox GROUP BY 1`)
).rows as { license_id: string; n: number }[];
const idem = (
  await admin.query(`SELECT state, count(*)::int AS n FROM ${schema}.relay_idempotency GROUP BY 1`)
).rows as { state: string; n: number }[];
await admin.end();

// audit logs: verify each instance's log against the pinned key; read its events
const secrets = JSON.parse(readFileSync(join(relayDirA, 'secrets.json'), 'utf8')) as {
  auditSeed: string;
};
const auditKey = verifyingKeyFromRaw(
  signingKeyFromSeed(new Uint8Array(Buffer.from(secrets.auditSeed, 'base64'))).publicKey,
);
const audit: {
  instance: string;
  ok: boolean;
  records: number;
  notes: string[];
  findings: string[];
}[] = [];
const auditEvents: {
  instance: string;
  action: string;
  outcome: string;
  time?: string;
  reason?: string;
  target?: { id: string };
  data?: Record<string, unknown>;
}[] = [];
for (const r of relays) {
  const dir = join(r.dir, 'audit');
  const report = await verifyPath(dir, { publicKeys: [auditKey] });
  audit.push({
    instance: r.name,
    ok: report.ok && report.trust === 'pinned',
    records: report.records,
    notes: [...report.notes],
    findings: report.findings.map(
      (f) => `${f.code}${f.seq !== undefined ? ` at ${f.seq}` : ''}: ${f.message}`,
    ),
  });
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort())
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const rec = JSON.parse(line) as { k: string; e?: (typeof auditEvents)[number] };
      if (rec.k === 'e' && rec.e) auditEvents.push({ ...rec.e, instance: r.name });
    }
}
const expiredIds = new Set(
  auditEvents.filter((e) => e.action === 'mailbox.expire').map((e) => e.target?.id),
);
const dormantExpired = dormantHooks.filter((h) => expiredIds.has(h.id)).length;
const dormantPickedUp = auditEvents.filter(
  (e) =>
    e.action === 'mailbox.pickup' &&
    e.data?.license === dormantLicense &&
    Array.isArray(e.data.ids) &&
    e.data.ids.length > 0,
).length;
const sendSuccess = new Map<string, number>();
const auditSends = auditEvents
  .filter((e) => e.action === 'relay.send')
  .map((e) => ({
    instance: e.instance,
    key: String(e.data?.idempotencyKey),
    outcome: e.outcome,
    time: e.time,
    reason: e.reason,
  }));
for (const e of auditEvents)
  if (e.action === 'relay.send' && e.outcome === 'success') {
    const key = String(e.data?.idempotencyKey);
    sendSuccess.set(key, (sendSuccess.get(key) ?? 0) + 1);
  }
const auditedDeliveries = sendSuccess.size;
// for each key delivered more than once: what the counterpart saw and what the relays audited
const duplicateEvidence = [...byKey]
  .filter(([, n]) => n > 1)
  .slice(0, 20)
  .map(([key]) => ({
    idempotencyKey: key,
    effects: lastEffects
      .filter((e) => e.idempotencyKey === key)
      .map((e) => ({ seq: e.seq, at: e.at, order: e.body.order })),
    audited: auditSends
      .filter((a) => a.key === key)
      .map(({ instance, outcome, time, reason }) => ({ instance, outcome, time, reason })),
  }));

// latency: drop into the folder → recorded at the counterpart
const latencies: number[] = [];
for (const e of lastEffects) {
  const dropped = e.body.order ? dropTimes.get(e.body.order) : undefined;
  if (dropped !== undefined) latencies.push(Date.parse(e.at) - dropped);
}
const p50 = percentile(latencies, 50);
const p99 = percentile(latencies, 99);
// the same for records dropped before the first fault (the undisturbed baseline)
const firstFaultAt = loadStartedAt + (schedule[0]?.at ?? D);
const baseline: number[] = [];
for (const e of lastEffects) {
  const dropped = e.body.order ? dropTimes.get(e.body.order) : undefined;
  if (dropped !== undefined && dropped < firstFaultAt - 2000)
    baseline.push(Date.parse(e.at) - dropped);
}

// what the faults did to the agents: failed attempts by error code (from their logs)
const retriesByCode: Record<string, number> = {};
for (const a of agents) {
  let text = '';
  try {
    text = readFileSync(join(logs, `agent-${a.index}.log`), 'utf8');
  } catch {}
  for (const m of text.matchAll(/attempt \d+ failed \((\w+)\)/g))
    retriesByCode[m[1] as string] = (retriesByCode[m[1] as string] ?? 0) + 1;
}

// --- verdict ----------------------------------------------------------------------------

const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
check(
  'every record delivered',
  lost.length === 0,
  `${lost.length} lost${lost.length ? `: ${lost.slice(0, 10).join(', ')}` : ''}`,
);
check(
  'no duplicate delivery',
  dupOrders.length === 0 && dupKeys.length === 0,
  `${dupOrders.length} orders / ${dupKeys.length} idempotency keys more than once${dupOrders.length ? `: ${dupOrders.slice(0, 10).join(', ')}` : ''}`,
);
check(
  'every delivery carries an idempotency key',
  noKey === 0 && unknown.length === 0,
  `${noKey} without key, ${unknown.length} unknown orders`,
);
check(
  'nothing dead-lettered or rejected',
  deadLetters === 0 && rejected === 0,
  `${deadLetters} dead letters, ${rejected} rejected${deadDetail.length ? `: ${deadDetail.slice(0, 5).join('; ')}` : ''}`,
);
check(
  'outboxes and drop folders empty',
  leftInOutbox === 0 && leftInDropFolder === 0,
  `${leftInOutbox} in outboxes, ${leftInDropFolder} files left`,
);
check(
  'every webhook accepted by a relay',
  acceptedHooks.length === hooks.size,
  `${acceptedHooks.length}/${hooks.size} accepted`,
);
check(
  'every event picked up by its own agent, once',
  pickedRight === agentHooks.length && pickedWrong.length === 0 && strayInbox.length === 0,
  `${pickedRight}/${agentHooks.length} picked${notPicked.length ? `; missing ${notPicked.slice(0, 5).join(', ')}` : ''}${pickedWrong.length ? `; wrong ${pickedWrong.slice(0, 5).join('; ')}` : ''}${strayInbox.length ? `; stray ${strayInbox.length}` : ''}`,
);
check(
  'dormant events expired, never handed out',
  dormantHooks.length > 0 && dormantExpired === dormantHooks.length && dormantPickedUp === 0,
  `${dormantExpired}/${dormantHooks.length} expired (audited mailbox.expire), ${dormantPickedUp} pickups`,
);
check(
  'no mailbox row left',
  leftRows.length === 0,
  leftRows.length ? JSON.stringify(leftRows) : '0 rows',
);
check(
  'audit logs verify (pinned key)',
  audit.every((a) => a.ok),
  audit.map((a) => `${a.instance}: ${a.ok ? 'OK' : 'FAILED'} (${a.records} records)`).join(', '),
);
check(
  'each delivery audited as relay.send success',
  [...byKey.keys()].every((k) => (sendSuccess.get(k) ?? 0) >= 1),
  `${auditedDeliveries} keys audited as delivered for ${byKey.size} delivered keys`,
);
check(
  'faults injected as scheduled',
  faults.every((f) => !f.detail.startsWith('FAILED')) && faults.length >= schedule.length + 1,
  `${faults.length} fault events`,
);
check(
  `RSS growth after warm-up within bounds (relay ${RSS_BOUND_MIB.relay} MiB, agent ${RSS_BOUND_MIB.agent} MiB, counterpart ${RSS_BOUND_MIB.counterpart} MiB)`,
  memory.every((m) => m.ok),
  memory
    .filter((m) => !m.ok)
    .map((m) => `${m.process} +${m.growthMiB} MiB`)
    .join(', ') || 'all within',
);
check('drained in time', drained, `${(drainMs / 1000).toFixed(1)}s after the load`);

const ok = checks.every((c) => c.ok);
const summary = {
  ok,
  date: new Date().toISOString(),
  node: process.version,
  settings: {
    durationSeconds: DURATION_S,
    agents: AGENTS,
    recordsPerAgentPerSecond: RATE,
    webhookEveryMs: WEBHOOK_EVERY_MS,
    pendingLeaseMs: PENDING_LEASE_MS,
    warmupMs: WARMUP_MS,
    rssBoundMiB: RSS_BOUND_MIB,
  },
  records: {
    sent: dropTimes.size,
    delivered: byOrder.size,
    deliveries: lastEffects.length,
    duplicates,
    reforwardedDeduplicatedByTarget: replayedByTarget,
    lost: lost.length,
    deadLettered: deadLetters,
    rejected,
    latencyMs: {
      what: 'file dropped into the agent folder → recorded by the counterpart',
      p50,
      p99,
      max: latencies.length ? Math.max(...latencies) : null,
      beforeFaults: {
        p50: percentile(baseline, 50),
        p99: percentile(baseline, 99),
        n: baseline.length,
      },
    },
    failedAttemptsByCode: retriesByCode,
  },
  mailbox: {
    webhooksSent: hooks.size,
    webhookAttempts: [...hooks.values()].reduce((n, h) => n + h.attempts, 0),
    in: acceptedHooks.length,
    picked: pickedRight,
    expired: dormantExpired,
    expectedExpired: dormantHooks.length,
    left: leftRows.reduce((n, r) => n + r.n, 0),
  },
  duplicateEvidence,
  idempotencyRecords: Object.fromEntries(idem.map((r) => [r.state, r.n])),
  faults,
  proxy: proxy.stats,
  balancerConnections: Object.fromEntries(
    relays.map((r) => [r.name, balancer?.connections.get(r.port) ?? 0]),
  ),
  audit,
  memory,
  stopped,
  drainSeconds: Math.round(drainMs / 100) / 10,
  totalSeconds: Math.round((Date.now() - t0) / 100) / 10,
  checks,
};
writeReport(REPORT, summary);

const fmt = (n: number | null) => (n === null ? '-' : `${n}`);
console.log('\n=== load and fault suite ===');
console.log(
  table(
    ['figure', 'value'],
    [
      ['duration / drain', `${DURATION_S}s / ${summary.drainSeconds}s`],
      ['records sent (dropped)', summary.records.sent],
      ['delivered (distinct)', summary.records.delivered],
      ['duplicates', summary.records.duplicates],
      ["re-forwards answered by the target's idempotency", replayedByTarget],
      ['lost', summary.records.lost],
      ['dead-lettered / rejected', `${deadLetters} / ${rejected}`],
      ['latency drop→counterpart p50 / p99', `${fmt(p50)} ms / ${fmt(p99)} ms`],
      [
        '  … before the first fault p50 / p99',
        `${fmt(percentile(baseline, 50))} ms / ${fmt(percentile(baseline, 99))} ms`,
      ],
      [
        'failed attempts (retried) by code',
        Object.entries(retriesByCode)
          .map(([c, n]) => `${c.replace(/^ERR_RELAY_/, '')} ${n}`)
          .join(', ') || '-',
      ],
      ['mailbox events in', summary.mailbox.in],
      ['mailbox events picked', `${pickedRight} of ${agentHooks.length}`],
      ['mailbox events expired', `${dormantExpired} of ${dormantHooks.length}`],
      ['mailbox rows left', summary.mailbox.left],
      ['faults injected', faults.length],
      [
        'agent connections via the balancer',
        Object.entries(summary.balancerConnections)
          .map(([name, n]) => `${name} ${n}`)
          .join(', '),
      ],
      [
        'audit verify',
        audit.map((a) => `${a.instance} ${a.ok ? 'OK' : 'FAILED'} (${a.records})`).join(', '),
      ],
    ],
  ),
);
console.log(
  `\nfaults:\n${table(
    ['at', 'fault', 'detail'],
    faults.map((f) => [f.at, f.fault, f.detail]),
  )}`,
);
console.log(
  `\nRSS (MiB; growth = end − warm, warm = 10 s after ${WARMUP_MS / 1000} s of warm-up):\n${table(
    ['process', 'pid', 'start', 'warm', 'peak', 'end', 'growth', 'bound', 'ok'],
    memory.map((m) => [
      m.process,
      m.pid,
      m.startMiB,
      m.warmMiB,
      m.peakMiB,
      m.endMiB,
      m.growthMiB,
      m.boundMiB,
      m.ok ? 'yes' : 'NO',
    ]),
  )}`,
);
console.log(
  `\nchecks:\n${table(
    ['check', 'ok', 'detail'],
    checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail]),
  )}`,
);
console.log(`\nreport: ${REPORT}`);
exitCode = ok ? 0 : 1;

await cleanup();
if (ok) rmSync(tmp, { recursive: true, force: true });
else console.log(`logs kept in ${logs}`);
say(ok ? 'PASSED' : 'FAILED');
process.exit(exitCode);
