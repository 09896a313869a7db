/**
 * The system under load, as real processes: the counterpart (behind a TCP proxy that can make
 * it slow), our own Redis, two relay instances over one PostgreSQL schema (through a TCP proxy
 * we can cut) behind one TCP balancer (their common public URL), `settings.agents`
 * `fluxel-agent run` processes — each with its own license, device key, outbox and keychain
 * entry; one of them with its outbox on a small tmpfs — and one dormant license that never
 * picks up. Everything started here is stopped by `close()`, also after a failure.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTcpProxy, type TcpProxy } from '@fluxel/internal/tcp-proxy';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import {
  createRelayClient,
  type NodeRelayClient,
  type StoredTokens,
  spkiPin,
} from '@fluxel/relay-client/node';
import { main as agentMain } from '@fluxel-example/agent';
import pg from 'pg';
import { request } from 'undici';
import { type Child, type RssSampler, type SpawnOptions, spawnTs, stop } from './procs.ts';
import { type OwnRedis, startOwnRedis } from './redis-server.ts';
import type { Settings } from './settings.ts';
import { mountSmallDisk, type SmallDisk } from './small-disk.ts';
import { type Balancer, freePort, startBalancer } from './tcp-proxy.ts';

export interface RelaySlot {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  child: Child;
  restarts: number;
}

export interface AgentSlot {
  readonly index: number;
  readonly dir: string;
  readonly secret: string;
  /** The path of this license's own hook (`/v1/hooks/shop-1/<hookId>`), from `credentials put`. */
  hookPath: string;
  child: Child;
  restarts: number;
  dropped: number;
  /** Every incarnation's log lines are appended here (one file per agent). */
  readonly log: string;
}

export interface Topology {
  readonly tmp: string;
  readonly logs: string;
  readonly schema: string;
  readonly publicUrl: string;
  readonly counterpartUrl: string;
  readonly counterpart: Child;
  readonly relays: readonly RelaySlot[];
  readonly agents: readonly AgentSlot[];
  /** The agent whose outbox is on the small disk. */
  readonly diskAgent: AgentSlot;
  readonly disk: SmallDisk;
  readonly redis: OwnRedis;
  readonly dbProxy: TcpProxy;
  readonly counterpartProxy: TcpProxy;
  readonly balancer: Balancer;
  readonly dormant: {
    readonly client: NodeRelayClient;
    readonly license: string;
    readonly secret: string;
    readonly hookPath: string;
  };
  readonly relayDirA: string;
  counterpartAdmin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
  restartRelay(slot: RelaySlot): Promise<void>;
  /** Starts the agent's `run` again; `clockOffset` like faketime's `"-5m"` runs it with that clock. */
  restartAgent(slot: AgentSlot, clockOffset?: string): Promise<void>;
  /** SIGTERM (the agent's own graceful stop). */
  stopAgent(slot: AgentSlot): Promise<void>;
  /** Idempotency records still pending (sends claimed but not yet recorded as delivered). */
  pendingRecords(): Promise<number>;
  /** Moves a license's held events past their expiry (the 7-day horizon, played). */
  ageEvents(license: string): Promise<number>;
  close(): Promise<void>;
}

/** libfaketime (Debian `faketime`): the agent's clock off by an offset, the process unchanged. */
export const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export async function startTopology(
  settings: Settings,
  tmp: string,
  sampler: RssSampler,
  say: (line: string) => void,
): Promise<Topology> {
  const { paths } = settings;
  const logs = join(tmp, 'logs');
  mkdirSync(logs, { recursive: true });
  const schema = `load_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const children = new Set<Child>();
  const closers: (() => Promise<void> | void)[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all([...children].map((c) => stop(c, 10_000)));
    for (const fn of closers.reverse()) await Promise.resolve(fn()).catch(() => {});
  };
  process.on('exit', () => {
    for (const c of children) if (c.alive()) c.proc.kill('SIGKILL');
  });
  const track = (name: string, child: Child): Child => {
    children.add(child);
    sampler.track(name, child);
    void child.exited.then(() => children.delete(child));
    return child;
  };

  try {
    return await build();
  } catch (error) {
    await close();
    throw error;
  }

  async function build(): Promise<Topology> {
    closers.push(async () => {
      const admin = new pg.Client({ connectionString: settings.databaseUrl });
      try {
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } catch (error) {
        console.error(`could not drop schema ${schema}: ${(error as Error).message}`);
      } finally {
        await admin.end().catch(() => {});
      }
    });
    const dbUrl = new URL(settings.databaseUrl);
    const dbProxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
    closers.push(() => dbProxy.close());
    const proxiedUrl = new URL(settings.databaseUrl);
    proxiedUrl.hostname = '127.0.0.1';
    proxiedUrl.port = String(dbProxy.port);

    const redis = await startOwnRedis(logs, (child) => track(child.name, child));
    closers.push(() => redis.stop());

    const counterpartApiKey = randomBytes(24).toString('base64url');
    const counterpartAdminKey = randomBytes(24).toString('base64url');
    const relayDirA = join(tmp, 'relay-a');
    const caPath = join(relayDirA, 'tls', 'ca.pem');

    const counterpart = track(
      'counterpart',
      spawnTs('counterpart', paths.counterpartMain, [], {
        cwd: join(paths.examples, 'counterpart'),
        env: childEnv({
          COUNTERPART_PORT: '0',
          COUNTERPART_API_KEY: counterpartApiKey,
          COUNTERPART_ADMIN_KEY: counterpartAdminKey,
          COUNTERPART_RELAY_CA: caPath,
          COUNTERPART_CONTROL: 'stdin',
          // Like a payment provider: a repeated Idempotency-Key gets the first answer, no new
          // effect. The relay is at-least-once towards the target (a kill between the target's
          // answer and the outcome record re-forwards after the lease); exactly-once effects
          // rest on the key. Re-forwards are counted as `replayed` and reported.
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
    // The relays reach the counterpart through a proxy that can hold its answers back.
    const cpUrl = new URL(counterpartUrl);
    const counterpartProxy = await startTcpProxy({
      host: cpUrl.hostname,
      port: Number(cpUrl.port),
    });
    closers.push(() => counterpartProxy.close());

    const counterpartAdmin = async (
      method: 'GET' | 'POST',
      path: string,
      body?: unknown,
    ): Promise<unknown> => {
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
    };

    // relays: each instance gets a port up front (kept across restarts); the agents reach both
    // through one TCP balancer, as behind a load balancer in production.
    const relays: RelaySlot[] = [];
    const balancer = await startBalancer(() =>
      relays.filter((r) => r.child.alive()).map((r) => r.port),
    );
    closers.push(() => balancer.close());
    const publicUrl = `https://127.0.0.1:${balancer.port}`;
    const relayEnv = (dir: string, port: number, issue: number) =>
      childEnv({
        RELAY_DATA_DIR: dir,
        RELAY_PORT: String(port),
        // Both instances behind one balancer: the URL agents use (DPoP `htu`) is the balancer's.
        RELAY_PUBLIC_URL: publicUrl,
        DATABASE_URL: proxiedUrl.toString(),
        DATABASE_SCHEMA: schema,
        REDIS_URL: redis.url,
        COUNTERPART_URL: `http://127.0.0.1:${counterpartProxy.port}`,
        RELAY_DEV_TOKENS: '0',
        RELAY_DEMO_LICENSE: '0',
        ...(issue > 0 ? { RELAY_ISSUE_LICENSE: String(issue) } : {}),
        RELAY_PURGE_INTERVAL_MS: '2000',
        RELAY_PENDING_LEASE_MS: String(settings.pendingLeaseMs),
        // Every process here is 127.0.0.1; the per-IP window would count all of them together.
        RELAY_RATE_LIMIT_PER_IP: '1000000',
        RELAY_RATE_LIMIT_PER_LICENSE: '100000',
      });
    const startRelay = async (name: string, dir: string, port: number, issue: number) => {
      const keys: string[] = [];
      const child = spawnTs(name, paths.relayMain, [], {
        cwd: join(paths.examples, 'relay'),
        env: relayEnv(dir, port, issue),
        log: join(logs, `${name.replace(/#.*$/, '')}.log`),
      });
      const off = child.onLine((line) => {
        const m = /demo license key \(shown once\): (\S+)/.exec(line);
        if (m) keys.push(m[1] as string);
      });
      await child.waitFor(/relay listening on https:\/\/127\.0\.0\.1:\d+/, 90_000);
      await child.waitFor(/^relay ready$/, 60_000);
      off();
      return { child, keys };
    };
    const licenses = settings.agents + 1;
    const portA = await freePort();
    const portB = await freePort();
    say(
      `schema ${schema}, PostgreSQL through proxy :${dbProxy.port}, own Redis ${redis.url}, temp ${tmp}`,
    );
    const startedA = await startRelay('relay-a', relayDirA, portA, licenses);
    if (startedA.keys.length !== licenses)
      throw new Error(`relay-a issued ${startedA.keys.length} licenses, expected ${licenses}`);
    const relayDirB = join(tmp, 'relay-b');
    mkdirSync(relayDirB, { recursive: true, mode: 0o700 });
    for (const f of ['secrets.json', 'kek.key', 'tls'])
      cpSync(join(relayDirA, f), join(relayDirB, f), { recursive: true });
    const startedB = await startRelay('relay-b', relayDirB, portB, 0);
    relays.push(
      {
        name: 'relay-a',
        dir: relayDirA,
        port: portA,
        url: `https://127.0.0.1:${portA}`,
        child: track('relay-a', startedA.child),
        restarts: 0,
      },
      {
        name: 'relay-b',
        dir: relayDirB,
        port: portB,
        url: `https://127.0.0.1:${portB}`,
        child: track('relay-b', startedB.child),
        restarts: 0,
      },
    );
    say(
      `relays up: ${relays.map((r) => r.url).join(', ')} behind ${publicUrl}; counterpart ${counterpartUrl} (relays via :${counterpartProxy.port})`,
    );

    // agents: activate, store credentials, run — the last one with its outbox on a small disk
    const passphrase = randomBytes(18).toString('base64url');
    const webhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
    const agentOptions = (index: number, extra: Record<string, string> = {}): SpawnOptions => ({
      cwd: join(paths.examples, 'agent'),
      env: childEnv({ FLUXEL_AGENT_KEY_PASSPHRASE: passphrase, ...extra }),
      log: join(logs, `agent-${index}.log`),
    });
    const agentCli = async (args: string[], extra: Record<string, string>) => {
      const stdout: string[] = [];
      let err = '';
      const code = await agentMain(args, {
        stdout: (t) => stdout.push(...t.split('\n').filter(Boolean)),
        stderr: (t) => {
          err += t;
        },
        env: childEnv({ FLUXEL_AGENT_KEY_PASSPHRASE: passphrase, ...extra }),
      });
      return { code, stdout, err: err.replace(/whsec_\S+/g, 'whsec_[redacted]').slice(0, 500) };
    };
    const diskIndex = settings.agents - 1;
    const disk = mountSmallDisk(join(tmp, `agent-${diskIndex}`, 'outbox'), settings.diskMiB);
    closers.push(() => disk.unmount());
    const agents: AgentSlot[] = [];
    const runAgent = async (index: number, dir: string, name: string, clock?: string) => {
      const child = track(
        name,
        spawnTs(
          name,
          paths.agentCli,
          ['run', '--config', dir],
          agentOptions(
            index,
            clock
              ? { LD_PRELOAD: FAKETIME_LIB, FAKETIME: clock, FAKETIME_DONT_FAKE_MONOTONIC: '1' }
              : {},
          ),
        ),
      );
      await child.waitFor(/running: watching/, 90_000);
      return child;
    };
    // In waves: a whole fleet of TypeScript processes starting at once starves two cores.
    const wave = 8;
    for (let from = 0; from < settings.agents; from += wave) {
      const started = await Promise.all(
        Array.from({ length: Math.min(wave, settings.agents - from) }, async (_, k) => {
          const index = from + k;
          const dir = join(tmp, `agent-${index}`);
          const secret = webhookSecret();
          // activate and credentials run in this process (the agent's own `main`, its own
          // config folder and key file): two fewer TypeScript processes to start per agent.
          const activated = await agentCli(
            [
              'activate',
              startedA.keys[index] as string,
              '--relay',
              publicUrl,
              '--ca',
              caPath,
              '--key-store',
              'file',
              '--config',
              dir,
              '--json',
            ],
            {},
          );
          if (activated.code !== 0)
            throw new Error(`agent-${index}: activate exited ${activated.code}: ${activated.err}`);
          const creds = await agentCli(
            [
              'credentials',
              'put',
              'shop-1',
              '--field-env',
              'apiKey=LOAD_API_KEY',
              '--field-env',
              'webhookSecret=LOAD_WEBHOOK_SECRET',
              '--config',
              dir,
              '--json',
            ],
            { LOAD_API_KEY: counterpartApiKey, LOAD_WEBHOOK_SECRET: secret },
          );
          if (creds.code !== 0)
            throw new Error(`agent-${index}: credentials put exited ${creds.code}: ${creds.err}`);
          const hookPath = hookPathFrom(
            creds.stdout.map((l) => {
              try {
                return (JSON.parse(l) as { webhookUrl?: unknown }).webhookUrl;
              } catch {
                return undefined;
              }
            }),
            `agent-${index}`,
          );
          const child = await runAgent(index, dir, `agent-${index}`);
          return {
            index,
            dir,
            secret,
            hookPath,
            child,
            restarts: 0,
            dropped: 0,
            log: join(logs, `agent-${index}.log`),
          } satisfies AgentSlot;
        }),
      );
      agents.push(...started);
    }

    // the dormant license: activated in this process, never picks up
    const dormantSecret = webhookSecret();
    const ca = readFileSync(caPath, 'utf8');
    let dormantTokens: StoredTokens | undefined;
    const dormant = createRelayClient({
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
    closers.push(() => dormant.close());
    const dormantLicense = (
      await dormant.activate({ body: { licenseKey: startedA.keys[settings.agents] as string } })
    ).licenseId;
    await dormant.putCredentials({
      connection: 'shop-1',
      body: {
        kind: 'api-key',
        fields: { apiKey: counterpartApiKey, webhookSecret: dormantSecret },
      },
    });
    const dormantHookPath = hookPathFrom(
      [(await dormant.webhookEndpoint({ connection: 'shop-1' })).url],
      'dormant',
    );
    say(`${settings.agents} agents running through the balancer, dormant license set`);

    const adminQuery = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const admin = new pg.Client({ connectionString: settings.databaseUrl });
      await admin.connect();
      try {
        return (await admin.query(sql, params)).rows as T[];
      } finally {
        await admin.end();
      }
    };

    return {
      tmp,
      logs,
      schema,
      publicUrl,
      counterpartUrl,
      counterpart,
      relays,
      agents,
      diskAgent: agents[diskIndex] as AgentSlot,
      disk,
      redis,
      dbProxy,
      counterpartProxy,
      balancer,
      dormant: {
        client: dormant,
        license: dormantLicense,
        secret: dormantSecret,
        hookPath: dormantHookPath,
      },
      relayDirA,
      counterpartAdmin,
      async restartRelay(slot) {
        const started = await startRelay(
          `${slot.name}#${slot.restarts + 1}`,
          slot.dir,
          slot.port,
          0,
        );
        slot.child = track(`${slot.name}#${slot.restarts + 1}`, started.child);
        slot.restarts++;
      },
      async restartAgent(slot, clockOffset) {
        slot.restarts++;
        slot.child = await runAgent(
          slot.index,
          slot.dir,
          `agent-${slot.index}#${slot.restarts}${clockOffset ? `@${clockOffset}` : ''}`,
          clockOffset,
        );
      },
      async stopAgent(slot) {
        await stop(slot.child);
      },
      async pendingRecords() {
        const rows = await adminQuery<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.relay_idempotency WHERE state = 'pending'`,
        );
        return Number(rows[0]?.n ?? 0);
      },
      async ageEvents(license) {
        const admin = new pg.Client({ connectionString: settings.databaseUrl });
        await admin.connect();
        try {
          const { rowCount } = await admin.query(
            `UPDATE ${schema}.relay_mailbox SET expires_at = $2 WHERE license_id = $1`,
            [license, Date.now() - 1],
          );
          return rowCount ?? 0;
        } finally {
          await admin.end();
        }
      },
      close,
    };
  }
}

/** The environment a child gets: ours minus anything that would switch on unrelated parts. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base))
    if (
      /^(RELAY_|COUNTERPART_|FLUXEL_AGENT|AMQP_URL|NATS_URL|DATABASE_|REDIS_URL|LD_PRELOAD|FAKETIME)/.test(
        key,
      )
    )
      delete base[key];
  return { ...base, NODE_ENV: 'production', ...extra };
}

/** The path of a license's own hook URL (relays behind the balancer share it). */
function hookPathFrom(urls: readonly unknown[], who: string): string {
  const url = urls.find((u): u is string => typeof u === 'string');
  if (!url) throw new Error(`${who}: credentials put showed no webhook URL`);
  return new URL(url).pathname;
}
